/**
 * The TypeScript code blocks of the READMEs, compiled against the library's source.
 *
 * Convention for a ```ts block (README.md, lib/**\/README.md, examples/**\/README.md):
 * - It imports what it uses as a user would: constructs from the package root
 *   (`cdk-serverless-reference-architectures`, mapped here to `lib/index.ts`), the rest from
 *   `aws-cdk-lib`, `constructs` or Node.js.
 * - A block that uses `this` is the body of a stack's constructor: its imports and `declare`
 *   statements stay at module level, every other line goes into
 *   `class extends Stack { constructor(...) { super(...); <here> } }`. A block without `this`
 *   (a whole `bin/app.ts`, say) is compiled as a module as it is.
 * - What the reader already has (their function, VPC, user pool) is declared in the block:
 *   `declare const vpc: ec2.IVpc;`. Nothing else is predeclared.
 * - A block opts out only with `// not compiled: <reason>` as its first line.
 * Every block is its own module, all in one program, strict as tsconfig.dev.json except that
 * unused locals and parameters are allowed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import * as ts from 'typescript';

export const ROOT = join(__dirname, '..', '..');
export const PACKAGE_NAME: string = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).name;

const OPT_OUT = /^\/\/\s*not compiled(?::\s*(.*))?$/;
const TS_LANGUAGES = new Set(['ts', 'typescript']);

export interface ReadmeBlock {
  /** The README, relative to the repository root, with `/` separators. */
  readonly readme: string;
  /** 1-based line of the opening fence in the README. */
  readonly line: number;
  readonly code: string;
  /** Set when the block starts with `// not compiled: <reason>` (an empty reason is an error). */
  readonly notCompiled?: string;
}

/** README.md, lib/**\/README.md and examples/**\/README.md, sorted. */
export function findReadmes(root: string = ROOT): string[] {
  const found = ['README.md'].filter((file) => existsSync(join(root, file)));
  for (const dir of ['lib', 'examples']) {
    if (!existsSync(join(root, dir))) {
      continue;
    }
    for (const entry of readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })) {
      const file = join(dir, entry).split(sep).join('/');
      if (/(^|\/)README\.md$/.test(file) && !file.includes('node_modules/')) {
        found.push(file);
      }
    }
  }
  return found.sort();
}

/** The fenced blocks (``` or ~~~, any indentation) whose language is ts or typescript. */
export function typeScriptBlocks(readme: string, markdown: string): ReadmeBlock[] {
  return fencedBlocks(markdown)
    .filter((block) => TS_LANGUAGES.has(block.language))
    .map(({ line, code }) => {
      const firstLine = code.split('\n').find((text) => text.trim() !== '') ?? '';
      const optOut = OPT_OUT.exec(firstLine.trim());
      return optOut ? { readme, line, code, notCompiled: (optOut[1] ?? '').trim() } : { readme, line, code };
    });
}

export interface FencedBlock {
  readonly line: number;
  readonly language: string;
  readonly code: string;
}

export function fencedBlocks(markdown: string): FencedBlock[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: FencedBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})(.*)$/.exec(lines[i]);
    if (!open || (open[2][0] === '`' && open[3].includes('`'))) {
      continue;
    }
    const [, indent, fence, info] = open;
    const close = new RegExp(`^\\s*${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !close.test(lines[j]); j++) {
      // Content lines lose up to the fence's own indentation.
      body.push(lines[j].replace(new RegExp(`^ {0,${indent.length}}`), ''));
    }
    blocks.push({ line: i + 1, language: info.trim().split(/\s+/)[0].toLowerCase(), code: body.join('\n') });
    i = j;
  }
  return blocks;
}

/** Module specifiers a user could not write: relative or absolute paths, or deep paths into a package. */
export function deepImports(code: string): string[] {
  const specifiers = [...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)(['"])([^'"]+)\1/g)].map((m) => m[2]);
  return specifiers.filter((specifier) =>
    specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith(`${PACKAGE_NAME}/`) || specifier.includes('/lib/'));
}

export interface CompiledSnippets {
  /** Problems of the program itself (options, global types): any of them voids every result. */
  readonly programErrors: string[];
  /** Formatted diagnostics per block, keyed by `blockId`. */
  readonly errors: Map<string, string[]>;
  /** The file the package name resolved to. */
  readonly packageEntry: string | undefined;
  /** Compiled declarations under lib/ that the program read instead of source (stale build output). */
  readonly libDeclarations: string[];
  readonly millis: number;
}

export function blockId(block: Pick<ReadmeBlock, 'readme' | 'line'>): string {
  return `${block.readme}:${block.line}`;
}

/** Type-checks every block as its own module, in one program. */
export function compileBlocks(blocks: ReadmeBlock[], root: string = ROOT): CompiledSnippets {
  const started = Date.now();
  // Virtual files (never written) in a folder of the repository, so node_modules resolves as for a test.
  const modules = new Map<string, SnippetModule>();
  for (const block of blocks) {
    const file = join(root, 'test', 'docs', '__readme_snippets__', `${block.readme.replace(/[^A-Za-z0-9]+/g, '_')}_L${block.line}.ts`);
    modules.set(file, snippetModule(block));
  }

  const options = snippetCompilerOptions(root);
  const host = ts.createCompilerHost(options);
  // What tsc does: JSDoc is parsed only where it can change a type error (in JS files).
  host.jsDocParsingMode = ts.JSDocParsingMode.ParseForTypeErrors;
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (file) => modules.has(file) || fileExists.call(host, file);
  host.readFile = (file) => modules.get(file)?.text ?? readFile.call(host, file);
  host.getSourceFile = (file, languageVersion, onError, shouldCreate) => {
    const module = modules.get(file);
    return module
      ? ts.createSourceFile(file, module.text, languageVersion, true)
      : getSourceFile.call(host, file, languageVersion, onError, shouldCreate);
  };

  const program = ts.createProgram({ rootNames: [...modules.keys()], options, host });
  const programErrors = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()]
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  const errors = new Map<string, string[]>();
  for (const [file, module] of modules) {
    const sourceFile = program.getSourceFile(file)!;
    const diagnostics = [...program.getSyntacticDiagnostics(sourceFile), ...program.getSemanticDiagnostics(sourceFile)];
    errors.set(blockId(module.block), diagnostics.map((d) => formatDiagnostic(d, module)));
  }
  const libFiles = program.getSourceFiles()
    .map((sf) => relative(root, sf.fileName).split(sep).join('/'))
    .filter((file) => file.startsWith('lib/'));
  return {
    programErrors,
    errors,
    packageEntry: libFiles.find((file) => /^lib\/index\.(d\.)?ts$/.test(file)),
    libDeclarations: libFiles.filter((file) => file.endsWith('.d.ts')),
    millis: Date.now() - started,
  };
}

function snippetCompilerOptions(root: string): ts.CompilerOptions {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.dev.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!parsed) {
    throw new Error('tsconfig.dev.json could not be read');
  }
  return {
    ...parsed.options,
    noEmit: true,
    // A snippet shows a construct being created; `const service = new X(...)` is fine unread.
    noUnusedLocals: false,
    noUnusedParameters: false,
    // Node's globals (`__dirname`, `process`) but not jest's or the handlers' types.
    types: ['node'],
    paths: { [PACKAGE_NAME]: [join(root, 'lib', 'index.ts')] },
  };
}

interface SnippetModule {
  readonly block: ReadmeBlock;
  readonly text: string;
  /** README line of each line of `text`; undefined for the lines of the prelude. */
  readonly readmeLines: Array<number | undefined>;
}

/**
 * A block that uses `this` becomes a stack's constructor body, its imports and `declare`
 * statements hoisted to module level. Line and column numbers of the block's own lines are kept.
 */
function snippetModule(block: ReadmeBlock): SnippetModule {
  const codeLines = block.code.split('\n');
  const readmeLine = (index: number) => block.line + 1 + index;
  const parsed = ts.createSourceFile('block.ts', block.code, ts.ScriptTarget.Latest, true);
  if (!usesThis(parsed)) {
    return {
      block,
      text: [...codeLines, 'export {};'].join('\n'),
      readmeLines: [...codeLines.map((_, i) => readmeLine(i)), undefined],
    };
  }

  const hoisted = new Set<number>();
  for (const statement of parsed.statements) {
    const isDeclare = ts.canHaveModifiers(statement) && ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.DeclareKeyword);
    if (ts.isImportDeclaration(statement) || ts.isImportEqualsDeclaration(statement) || isDeclare) {
      const first = parsed.getLineAndCharacterOfPosition(statement.getStart(parsed)).line;
      const last = parsed.getLineAndCharacterOfPosition(statement.getEnd()).line;
      for (let i = first; i <= last; i++) {
        hoisted.add(i);
      }
    }
  }
  const lines: Array<[string, number | undefined]> = [];
  codeLines.forEach((text, i) => hoisted.has(i) && lines.push([text, readmeLine(i)]));
  lines.push(
    ['import { Stack as SnippetStackBase } from \'aws-cdk-lib\';', undefined],
    ['import type { Construct as SnippetScope } from \'constructs\';', undefined],
    ['export class Snippet extends SnippetStackBase {', undefined],
    ['constructor(snippetScope: SnippetScope, snippetId: string) {', undefined],
    ['super(snippetScope, snippetId);', undefined],
  );
  codeLines.forEach((text, i) => !hoisted.has(i) && lines.push([text, readmeLine(i)]));
  lines.push(['}', undefined], ['}', undefined]);
  return { block, text: lines.map(([text]) => text).join('\n'), readmeLines: lines.map(([, line]) => line) };
}

function usesThis(node: ts.Node): boolean {
  return node.kind === ts.SyntaxKind.ThisKeyword || ts.forEachChild(node, usesThis) === true;
}

function formatDiagnostic(diagnostic: ts.Diagnostic, module: SnippetModule): string {
  const message = `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n  ')}`;
  if (!diagnostic.file || diagnostic.start === undefined) {
    return message;
  }
  const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
  const readmeLine = module.readmeLines[line];
  if (readmeLine === undefined) {
    return `${module.block.readme} (prelude of the block at line ${module.block.line}): ${message}`;
  }
  const source = module.text.split('\n')[line].trim();
  return `${module.block.readme}:${readmeLine}:${character + 1} ${message}\n    ${source}`;
}
