/**
 * The jsii-diff comparison that `npx projen api:check` runs against api-baseline/ (see
 * scripts/api-baseline.ts) catches the changes that break users' code, and only those: run on
 * two tiny hand-made assemblies, with no dependencies to load (under a second each).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareApi } from '../scripts/api-baseline';

interface Member { readonly name: string; readonly optional?: boolean; readonly experimental?: boolean }

/**
 * A class `Widget` (its properties: `widget`), constructed with the struct `WidgetProps` (its
 * properties: `props`), as jsii writes them.
 */
function assembly(members: { widget: Member[]; props: Member[] }, dependencies: Record<string, string> = {}): object {
  const property = (m: Member, abstract: boolean): object => ({
    name: m.name,
    type: { primitive: 'string' },
    immutable: true,
    ...(abstract ? { abstract: true } : {}),
    ...(m.optional ? { optional: true } : {}),
    docs: { stability: m.experimental ? 'experimental' : 'stable' },
  });
  const type = (name: string, definition: object): object => ({
    assembly: 'fixture', fqn: `fixture.${name}`, name, docs: { stability: 'stable' }, ...definition,
  });
  return {
    schema: 'jsii/0.10.0',
    name: 'fixture',
    version: '1.0.0',
    description: 'fixture',
    license: 'Apache-2.0',
    homepage: 'https://example.invalid',
    repository: { type: 'git', url: 'https://example.invalid' },
    author: { name: 'fixture', roles: ['author'] },
    jsiiVersion: '6.0.16',
    fingerprint: 'fixture',
    docs: { stability: 'stable' },
    dependencies,
    types: {
      'fixture.Widget': type('Widget', {
        kind: 'class',
        initializer: { parameters: [{ name: 'props', type: { fqn: 'fixture.WidgetProps' } }] },
        properties: members.widget.map((m) => property(m, false)),
      }),
      'fixture.WidgetProps': type('WidgetProps', {
        kind: 'interface',
        datatype: true,
        properties: members.props.map((m) => property(m, true)),
      }),
    },
  };
}

const BASELINE = {
  widget: [{ name: 'url' }, { name: 'preview', experimental: true }],
  props: [{ name: 'title' }, { name: 'color', optional: true }],
};

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'api-baseline-test-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: object): string {
  const file = join(dir, `${name}.jsii`);
  writeFileSync(file, JSON.stringify(content));
  return file;
}

function compareWithBaseline(updated: typeof BASELINE): ReturnType<typeof compareApi> {
  return compareApi(write('baseline', assembly(BASELINE)), write('updated', assembly(updated)));
}

test('a new output property and a new optional input are compatible, and nothing is reported', () => {
  expect(compareWithBaseline({
    widget: [...BASELINE.widget, { name: 'arn' }],
    props: [...BASELINE.props, { name: 'size', optional: true }],
  })).toEqual({ verdict: 'compatible', report: '' });
});

test('a removed property and an input that became required break the API', () => {
  const { verdict, report } = compareWithBaseline({
    widget: BASELINE.widget.filter((m) => m.name !== 'url'),
    props: [{ name: 'title' }, { name: 'color' }],
  });
  expect(verdict).toBe('breaking');
  expect(report).toContain('err  - PROP fixture.Widget.url: has been removed');
  expect(report).toContain("err  - IFACE fixture.WidgetProps: newly required property 'color' used to be optional");
});

// jsii-diff reports one reason per struct: this one needs a comparison of its own.
test('a new required input breaks the API', () => {
  const { verdict, report } = compareWithBaseline({ ...BASELINE, props: [...BASELINE.props, { name: 'owner' }] });
  expect(verdict).toBe('breaking');
  expect(report).toContain("err  - IFACE fixture.WidgetProps: newly required property 'owner' added");
});

test('a change to an experimental property is reported, and not an error', () => {
  const { verdict, report } = compareWithBaseline({ ...BASELINE, widget: BASELINE.widget.filter((m) => m.name !== 'preview') });
  expect(verdict).toBe('compatible');
  expect(report).toContain('warn - PROP fixture.Widget.preview: has been removed');
});

test('an assembly whose dependency is not installed is not taken for compatible', () => {
  const { verdict, report } = compareApi(write('baseline', assembly(BASELINE)), write('updated', assembly(BASELINE, { 'not-installed-fixture': '^1.0.0' })));
  expect(verdict).toBe('unreadable');
  expect(report).toContain("Cannot find module 'not-installed-fixture'");
});
