// Worker process for the "digest" queue.
import { runWorker } from './run.js';

await runWorker(['digest']);
