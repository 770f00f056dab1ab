/**
 * The READMEs' TypeScript examples type-check against the library's source (lib/index.ts) and
 * import only from the package root. Conventions for a block: see ./readme-snippets.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  blockId, compileBlocks, CompiledSnippets, deepImports, fencedBlocks, findReadmes, PACKAGE_NAME, ReadmeBlock, ROOT, typeScriptBlocks,
} from './readme-snippets';

const readmes = findReadmes();
const blocks = readmes.flatMap((readme) => typeScriptBlocks(readme, readFileSync(join(ROOT, readme), 'utf8')));

/** Compiled with the READMEs' blocks, in the same program: the prelude must not hide these errors. */
const selfTest = {
  compiles: `import { RestfulMicroservice } from '${PACKAGE_NAME}';\nnew RestfulMicroservice(this, 'Items');`,
  wholeModule: `import { App, Stack } from 'aws-cdk-lib';\nimport { RestfulMicroservice } from '${PACKAGE_NAME}';\n`
    + 'const stack = new Stack(new App(), \'Items\');\nnew RestfulMicroservice(stack, \'Items\');',
  unknownProp: `import { RestfulMicroservice } from '${PACKAGE_NAME}';\nnew RestfulMicroservice(this, 'Items', { noSuchProp: true });`,
  missingImport: 'new RestfulMicroservice(this, \'Items\');',
  undeclaredInput: `import { CanaryDeployment } from '${PACKAGE_NAME}';\nnew CanaryDeployment(this, 'Deployment', { function: myFunction });`,
  noPredeclaredScope: `import { RestfulMicroservice } from '${PACKAGE_NAME}';\nnew RestfulMicroservice(scope, 'Items');`,
  strict: 'declare const name: string | undefined;\nconst id: string = name;\nthis.node.addMetadata(\'id\', id);',
  deepImport: `import { RestfulMicroservice } from '${PACKAGE_NAME}/lib/rest-api';\nnew RestfulMicroservice(this, 'Items');`,
};
const selfTestBlocks: ReadmeBlock[] = Object.values(selfTest).map((code, i) => ({ readme: 'self-test', line: (i + 1) * 100, code }));
const selfTestErrors = (name: keyof typeof selfTest) => compiled.errors.get(blockId(selfTestBlocks[Object.keys(selfTest).indexOf(name)]));

let compiled: CompiledSnippets;
beforeAll(() => {
  compiled = compileBlocks([...blocks.filter((block) => block.notCompiled === undefined), ...selfTestBlocks]);
});

describe('README code examples', () => {
  test('are found in README.md and in every pattern README', () => {
    expect(readmes).toContain('README.md');
    const patternReadmes = readmes.filter((readme) => /^lib\/[^/]+\/README\.md$/.test(readme));
    expect(patternReadmes.length).toBeGreaterThanOrEqual(8);
    const withoutExample = patternReadmes.filter((readme) => !blocks.some((b) => b.readme === readme && b.notCompiled === undefined));
    expect(withoutExample).toEqual([]);
  });

  test('compile in one program with the package name mapped to lib/index.ts, and the prelude hides no error', () => {
    expect(compiled.programErrors).toEqual([]);
    expect(compiled.packageEntry).toBe('lib/index.ts');
    // A lib/**/*.d.ts left by an earlier compile shadows a moved or deleted source file.
    expect(compiled.libDeclarations).toEqual([]);
    expect(selfTestErrors('compiles')).toEqual([]);
    expect(selfTestErrors('wholeModule')).toEqual([]);
    expect(selfTestErrors('unknownProp')).toEqual([expect.stringMatching(/^self-test:302:42 TS2353: .*'noSuchProp'/)]);
    expect(selfTestErrors('missingImport')).toEqual([expect.stringMatching(/TS2304: Cannot find name 'RestfulMicroservice'/)]);
    expect(selfTestErrors('undeclaredInput')).toEqual([expect.stringMatching(/Cannot find name 'myFunction'/)]);
    expect(selfTestErrors('noPredeclaredScope')).toEqual([expect.stringMatching(/TS2304: Cannot find name 'scope'/)]);
    expect(selfTestErrors('strict')).toEqual([expect.stringMatching(/^self-test:702:7 TS2322: /)]);
    expect(selfTestErrors('deepImport')).toEqual([expect.stringMatching(/TS2307: Cannot find module/)]);
    expect(deepImports(selfTest.deepImport)).toEqual([`${PACKAGE_NAME}/lib/rest-api`]);
  });

  test('fences: ``` and ~~~, indented, ts and typescript only, with the line of the fence', () => {
    const markdown = [
      '# Title', // 1
      '```ts', // 2
      'const a = 1;',
      '```',
      '```sh', // 5
      'npm test',
      '```',
      '- a list item', // 8
      '  ~~~typescript title="x"',
      '  // not compiled: a reason',
      '  const b = 2;',
      '  ~~~',
      '````ts', // 13
      '// not compiled',
      '```',
      '````',
    ].join('\n');
    expect(fencedBlocks(markdown).map((b) => [b.line, b.language])).toEqual([[2, 'ts'], [5, 'sh'], [9, 'typescript'], [13, 'ts']]);
    expect(typeScriptBlocks('x.md', markdown)).toEqual([
      { readme: 'x.md', line: 2, code: 'const a = 1;' },
      { readme: 'x.md', line: 9, code: '// not compiled: a reason\nconst b = 2;', notCompiled: 'a reason' },
      { readme: 'x.md', line: 13, code: '// not compiled\n```', notCompiled: '' },
    ]);
  });

  test('no TypeScript hides in a fence of another language', () => {
    const looksLikeTypeScript = /^\s*import\s.+\sfrom\s+['"]|\bnew\s+[A-Z]\w*\(\s*this\b/m;
    const hidden = readmes.flatMap((readme) => fencedBlocks(readFileSync(join(ROOT, readme), 'utf8'))
      .filter((block) => !['ts', 'typescript'].includes(block.language) && looksLikeTypeScript.test(block.code))
      .map((block) => `${readme}:${block.line} (\`\`\`${block.language})`));
    expect(hidden).toEqual([]);
  });

  test.each(blocks.map((block) => [describeBlock(block), block] as const))('%s', (_name, block) => {
    const problems = deepImports(block.code).map((specifier) =>
      `imports '${specifier}': a user imports from '${PACKAGE_NAME}' (the package root), aws-cdk-lib or constructs`);
    if (block.notCompiled === '') {
      problems.push('"// not compiled:" needs a reason (or fence a block that is not TypeScript as text)');
    } else if (block.notCompiled === undefined) {
      problems.push(...compiled.errors.get(blockId(block)) ?? ['not compiled']);
    }
    if (problems.length > 0) {
      throw new Error(`${blockId(block)}: the \`\`\`ts block does not type-check\n${problems.join('\n')}`);
    }
  });
});

function describeBlock(block: ReadmeBlock): string {
  return block.notCompiled === undefined ? blockId(block) : `${blockId(block)} (not compiled: ${block.notCompiled || 'no reason given'})`;
}
