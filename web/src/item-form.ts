/**
 * The labelled Title / Notes / Done form, used to add an item and to edit one in place. It shows
 * its own errors next to the fields (client checks and the API's 400 `details`), linked with
 * `aria-describedby` and flagged with `aria-invalid`.
 */
import { el, replaceChildren, uniqueId } from './dom';
import type { ErrorDetail, ItemFields } from './items-api';

/** The schema's limits (`WEB_APP_ITEM_SCHEMA`): the inputs stop the user there, the API enforces them. */
export const TITLE_MAX_LENGTH = 200;
export const NOTES_MAX_LENGTH = 2000;

type FieldName = 'title' | 'notes' | 'done';

export interface ItemFormOptions {
  /** The form's accessible name, e.g. "Add an item" or "Edit Buy milk". */
  readonly label: string;
  readonly submitLabel: string;
  readonly initial?: Partial<ItemFields>;
  /** Adds a Cancel button. */
  readonly onCancel?: () => void;
  readonly onSubmit: (fields: ItemFields) => void;
}

export class ItemForm {
  readonly element: HTMLFormElement;
  private readonly title: HTMLInputElement;
  private readonly notes: HTMLTextAreaElement;
  private readonly done: HTMLInputElement;
  private readonly submitButton: HTMLButtonElement;
  private readonly formError: HTMLParagraphElement;
  private readonly fieldErrors: Record<FieldName, HTMLParagraphElement>;

  constructor(options: ItemFormOptions) {
    const ids = { title: uniqueId('title'), notes: uniqueId('notes'), done: uniqueId('done') };
    const errorIds = { title: uniqueId('title-error'), notes: uniqueId('notes-error'), done: uniqueId('done-error') };
    const formErrorId = uniqueId('form-error');

    this.title = el('input', {
      'id': ids.title,
      'name': 'title',
      'type': 'text',
      'required': true,
      'maxlength': TITLE_MAX_LENGTH,
      'autocomplete': 'off',
      'aria-describedby': errorIds.title,
    });
    this.notes = el('textarea', { 'id': ids.notes, 'name': 'notes', 'rows': 3, 'maxlength': NOTES_MAX_LENGTH, 'aria-describedby': errorIds.notes });
    this.done = el('input', { 'id': ids.done, 'name': 'done', 'type': 'checkbox', 'aria-describedby': errorIds.done });
    this.fieldErrors = {
      title: el('p', { id: errorIds.title, class: 'field-error', hidden: true }),
      notes: el('p', { id: errorIds.notes, class: 'field-error', hidden: true }),
      done: el('p', { id: errorIds.done, class: 'field-error', hidden: true }),
    };
    this.formError = el('p', { id: formErrorId, class: 'form-error', hidden: true });
    this.submitButton = el('button', { type: 'submit', class: 'primary' }, options.submitLabel);

    const cancel = options.onCancel;
    // novalidate: the browser's own bubbles are neither styled nor announced consistently; the
    // form reports errors itself, in text, next to the field.
    this.element = el('form', { 'class': 'item-form', 'aria-label': options.label, 'novalidate': true, 'aria-describedby': formErrorId },
      el('div', { class: 'field' },
        el('label', { for: ids.title }, 'Title'), this.title, this.fieldErrors.title),
      el('div', { class: 'field' },
        el('label', { for: ids.notes }, 'Notes ', el('span', { class: 'hint' }, '(optional)')), this.notes, this.fieldErrors.notes),
      el('div', { class: 'field checkbox' },
        this.done, el('label', { for: ids.done }, 'Done'), this.fieldErrors.done),
      this.formError,
      el('div', { class: 'actions' },
        this.submitButton,
        cancel === undefined ? null : cancelButton(cancel)),
    );
    this.element.addEventListener('submit', (event) => {
      event.preventDefault();
      this.clearErrors();
      const fields = this.fields();
      if (fields.title === '') {
        this.showErrors([{ path: '/title', message: 'Enter a title' }]);
        return;
      }
      options.onSubmit(fields);
    });
    this.fill(options.initial ?? {});
  }

  /** The fields as the API takes them: title trimmed, empty notes left out. */
  fields(): ItemFields {
    const notes = this.notes.value;
    return { title: this.title.value.trim(), ...(notes.trim() !== '' ? { notes } : {}), done: this.done.checked };
  }

  /** True when the user has typed or ticked anything. */
  hasInput(): boolean {
    return this.title.value.trim() !== '' || this.notes.value.trim() !== '' || this.done.checked;
  }

  fill(fields: Partial<ItemFields>): void {
    this.title.value = fields.title ?? '';
    this.notes.value = fields.notes ?? '';
    this.done.checked = fields.done ?? false;
  }

  reset(): void {
    this.fill({});
    this.clearErrors();
  }

  focus(): void {
    this.title.focus();
  }

  /** While a request runs: repeated submissions are ignored (the button keeps focus, unlike `disabled`). */
  setBusy(busy: boolean): void {
    this.element.setAttribute('aria-busy', String(busy));
    this.submitButton.setAttribute('aria-disabled', String(busy));
  }

  isBusy(): boolean {
    return this.element.getAttribute('aria-busy') === 'true';
  }

  /**
   * Shows errors next to their fields (`path` is a JSON pointer such as `/title`); anything
   * else, and `summary`, above the buttons. Focuses the first field in error.
   */
  showErrors(details: readonly ErrorDetail[], summary?: string): void {
    const general: string[] = summary === undefined ? [] : [summary];
    let first: HTMLElement | undefined;
    for (const detail of details) {
      const field = fieldOf(detail.path);
      if (field === undefined) {
        general.push(detail.path === '' || detail.path === '/' ? detail.message : `${detail.path}: ${detail.message}`);
        continue;
      }
      const message = this.fieldErrors[field];
      message.textContent = message.hidden ? detail.message : `${message.textContent} ${detail.message}`;
      message.hidden = false;
      const input = this.input(field);
      input.setAttribute('aria-invalid', 'true');
      first ??= input;
    }
    if (general.length > 0) {
      replaceChildren(this.formError, general.join(' '));
      this.formError.hidden = false;
    }
    (first ?? this.title).focus();
  }

  clearErrors(): void {
    for (const field of ['title', 'notes', 'done'] as const) {
      this.fieldErrors[field].hidden = true;
      this.fieldErrors[field].textContent = '';
      this.input(field).removeAttribute('aria-invalid');
    }
    this.formError.hidden = true;
    this.formError.textContent = '';
  }

  private input(field: FieldName): HTMLInputElement | HTMLTextAreaElement {
    return field === 'title' ? this.title : field === 'notes' ? this.notes : this.done;
  }
}

function fieldOf(path: string): FieldName | undefined {
  const name = path.replace(/^\//, '').split('/')[0];
  return name === 'title' || name === 'notes' || name === 'done' ? name : undefined;
}

function cancelButton(onCancel: () => void): HTMLButtonElement {
  const button = el('button', { type: 'button' }, 'Cancel');
  button.addEventListener('click', onCancel);
  return button;
}

/** Two field sets are the same submission (so a retry may reuse its Idempotency-Key). */
export function sameFields(a: ItemFields, b: ItemFields): boolean {
  return a.title === b.title && (a.notes ?? '') === (b.notes ?? '') && (a.done ?? false) === (b.done ?? false);
}
