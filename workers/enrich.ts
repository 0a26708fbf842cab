// Worker process for the "enrich" queue.
import { runWorker } from './run.js';

await runWorker(['enrich']);
