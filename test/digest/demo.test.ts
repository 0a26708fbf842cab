// `gleaner demo` on the sample community: the team editions are drafted in the store (the Digests page
// lists them for review) and written beside the plain digest, with their sections.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { openApp } from '../../src/app.js';
import { listEditions } from '../../src/store/digests.js';
import { examplesDir } from '../../src/paths.js';
import { tempDir } from '../support/factories.js';

const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
afterAll(() => log.mockRestore());

describe('gleaner demo', () => {
  it('drafts each team’s edition with its sections and writes it beside the digest', async () => {
    const dir = tempDir('gleaner-demo-');
    await main(['node', 'gleaner', 'demo', '--dir', dir, '--no-serve']);
    expect(process.exitCode ?? 0).toBe(0);
    const files = readdirSync(join(dir, 'digest'));
    expect(files.some((f) => /^digest-\d{4}-W\d{2}\.html$/.test(f))).toBe(true);
    const product = files.find((f) => /^edition-product-\d{4}-W\d{2}\.txt$/.test(f));
    expect(product).toBeDefined();
    const text = readFileSync(join(dir, 'digest', product!), 'utf8');
    expect(text).toContain('NEW THIS WEEK');
    expect(text).toContain('RISING');
    expect(text).toContain('QUIET NOW');
    expect(text).toMatch(/\d+ (?:person|people) this week/);

    const app = await openApp({ config: join(examplesDir(), 'gleaner.yaml'), db: join(dir, 'gleaner.db'), redisUrl: null });
    try {
      const editions = await listEditions(app.db);
      expect(editions.map((e) => [e.team, e.status]).sort()).toEqual([
        ['docs-and-support', 'draft'],
        ['product', 'draft'],
      ]);
    } finally {
      await app.close();
    }
    expect(existsSync(join(dir, 'gleaner.db'))).toBe(true);
  }, 240_000);
});
