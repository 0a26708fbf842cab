// Worker process for the "ingest" queue.
import { runWorker } from './run.js';

await runWorker(['ingest']);
