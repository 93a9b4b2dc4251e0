import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/*
 * What the npm tarball carries besides the code: what README.md links to and what errors point
 * at (a renamed option's boot error says "see CHANGELOG.md"), so an installed copy can be read
 * without the repository. `npm pack --dry-run` lists the files that "files" in package.json
 * selects; scripts are skipped (no build), so dist/ is not looked at here (test/package-install.sh
 * checks the built tarball).
 */

const ROOT = resolve(__dirname, '..');

function packedFiles(): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [pack] = JSON.parse(out) as [{ files: { path: string; size: number }[] }];
  return pack.files.map((file) => file.path);
}

function docsMarkdown(dir = 'docs'): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return docsMarkdown(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });
}

describe('the npm tarball', () => {
  let files: string[];
  beforeAll(() => {
    files = packedFiles();
  }, 30_000);

  it('carries README.md, LICENSE and CHANGELOG.md (which boot errors of renamed options cite)', () => {
    expect(files).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'CHANGELOG.md']));
  });

  it('carries every docs/**/*.md, so the links of README.md resolve in an install', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const linked = [...readme.matchAll(/\]\((docs\/[^)#\s]+\.md)/g)].map((match) => match[1]!);
    expect(linked.length).toBeGreaterThan(0);
    expect(files).toEqual(expect.arrayContaining([...new Set([...linked, ...docsMarkdown()])]));
  });

  it('leaves out the docs images (docs/monitoring.md only; 600 kB)', () => {
    expect(files.filter((file) => file.startsWith('docs/images/'))).toEqual([]);
  });
});
