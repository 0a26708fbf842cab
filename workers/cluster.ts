// Worker process for the "cluster" queue.
import { runWorker } from './run.js';

await runWorker(['cluster']);
