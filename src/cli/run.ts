// Entry point for running the CLI from source during development: `npx tsx src/cli/run.ts <command>`.
import { main } from './main.js';

await main(process.argv);
