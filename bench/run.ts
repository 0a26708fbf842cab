// npm run bench -- <name> [args]: runs bench/<name>.ts, which prints its figures as `name: value` lines.
const [name, ...args] = process.argv.slice(2);
const known = ['ingest', 'quality', 'dedupe', 'cluster', 'digest', 'e2e', 'tag', 'feedback', 'scenario'];
if (!name || !known.includes(name)) {
  console.error(`usage: npm run bench -- <${known.join('|')}> [options]`);
  process.exit(2);
}
const mod = (await import(`./${name}.js`)) as { run(args: string[]): Promise<void> };
await mod.run(args);
