// Worker process for every queue (or those named with --queues=a,b).
import { queuesFromArgs, runWorker } from './run.js';

await runWorker(queuesFromArgs(process.argv.slice(2)));
