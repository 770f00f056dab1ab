/**
 * The screens: signed out, signed in (create form, paged list with inline edit and delete) and
 * "session expired". Messages go to the page's two live regions: `#status` (polite) for what
 * went well and `#alert` for what went wrong, with a button to retry or to sign in again.
 */
import type { Auth, SignedInUser } from './auth';
import type { WebAppRuntimeConfig } from './config';
import { byId, el, replaceChildren, visuallyHidden } from './dom';
import { ItemForm, sameFields } from './item-form';
import { ApiError, ItemsApi, NetworkError, SessionExpiredError, etagOf, type Item, type ItemFields } from './items-api';

export const SESSION_EXPIRED_MESSAGE = 'Your session has expired - sign in again';

interface AlertAction {
  readonly label: string;
  readonly run: () => void;
}

/** One item on screen, with the ETag its next change must send. */
interface ListedItem {
  item: Item;
  etag: string;
  readonly element: HTMLLIElement;
  editor?: ItemForm;
}

export class App {
  private readonly auth: Auth;
  private readonly api: ItemsApi;
  private readonly main = byId<HTMLElement>('main');
  private readonly account = byId<HTMLElement>('account');
  private readonly alertRegion = byId<HTMLElement>('alert');
  private readonly statusRegion = byId<HTMLElement>('status');

  private createForm?: ItemForm;
  /** The create submission in flight or last failed: a retry of the same fields reuses its key. */
  private pendingCreate?: { readonly key: string; readonly fields: ItemFields };
  private readonly listed = new Map<string, ListedItem>();
  private list?: HTMLUListElement;
  private listHeading?: HTMLHeadingElement;
  private listState?: HTMLParagraphElement;
  private loadMoreButton?: HTMLButtonElement;
  private nextToken?: string;

  constructor(config: WebAppRuntimeConfig, auth: Auth) {
    this.auth = auth;
    this.api = new ItemsApi(config.apiBasePath, config.resourceName, {
      accessToken: () => this.auth.accessToken(),
      renewAccessToken: async () => (await this.auth.renew())?.accessToken,
    });
  }

  // ------------------------------------------------------------------ screens

  showSignedOut(problem?: string): void {
    this.main.inert = false;
    replaceChildren(this.account);
    const signIn = el('button', { type: 'button', class: 'primary' }, 'Sign in');
    signIn.addEventListener('click', () => void this.signIn());
    replaceChildren(this.main,
      el('h1', {}, 'Your items'),
      el('p', {}, 'A private list of things to do. Sign in to see your items, add new ones and keep them up to date.'),
      signIn,
    );
    if (problem === undefined) this.clearMessages();
    else this.showAlert(problem);
    document.title = 'Items - sign in';
  }

  /** The signed-in screen; `draft` refills the create form (what was typed before a session expired). */
  showSignedIn(user: SignedInUser, draft?: ItemFields): void {
    this.main.inert = false;
    this.clearMessages();
    this.listed.clear();
    this.nextToken = undefined;
    document.title = 'Your items';

    const signOut = el('button', { type: 'button' }, 'Sign out');
    signOut.addEventListener('click', () => void this.auth.signOut());
    replaceChildren(this.account, el('span', { class: 'signed-in-as' }, 'Signed in as ', el('strong', {}, user.displayName)), signOut);

    this.createForm = new ItemForm({ label: 'Add an item', submitLabel: 'Add item', onSubmit: (fields) => void this.create(fields) });
    this.listHeading = el('h2', { id: 'list-heading', tabindex: -1 }, 'Saved items');
    this.list = el('ul', { 'class': 'items', 'aria-labelledby': 'list-heading' });
    this.listState = el('p', { class: 'list-state' });
    this.loadMoreButton = el('button', { type: 'button', hidden: true }, 'Load more');
    this.loadMoreButton.addEventListener('click', () => void this.loadPage());

    replaceChildren(this.main,
      el('h1', {}, 'Your items'),
      el('section', { 'class': 'create', 'aria-labelledby': 'create-heading' },
        el('h2', { id: 'create-heading' }, 'Add an item'), this.createForm.element),
      el('section', { 'class': 'list', 'aria-labelledby': 'list-heading' },
        this.listHeading, this.listState, this.list, this.loadMoreButton),
    );
    if (draft !== undefined) {
      this.createForm.fill(draft);
      this.announce('What you had typed was kept: add it when you are ready.');
      this.createForm.focus();
    }
    void this.loadPage();
  }

  /**
   * The API refused the token and renewal failed. The screen stays (inert) so nothing typed is
   * lost; signing in again carries the create form's content through the redirect.
   */
  private showSessionExpired(): void {
    this.main.inert = true;
    const draft = this.createForm?.hasInput() === true ? this.createForm.fields() : undefined;
    this.showAlert(SESSION_EXPIRED_MESSAGE, { label: 'Sign in', run: () => void this.signIn(draft) });
  }

  private async signIn(draft?: ItemFields): Promise<void> {
    try {
      await this.auth.signIn(draft === undefined ? {} : { draft });
    } catch (err) {
      this.showAlert(`Sign-in could not start: ${messageOf(err)}`);
    }
  }

  // ------------------------------------------------------------------ list

  private async loadPage(): Promise<void> {
    const list = this.list;
    const state = this.listState;
    const loadMore = this.loadMoreButton;
    if (list === undefined || state === undefined || loadMore === undefined) return;
    const firstPage = this.nextToken === undefined;
    list.setAttribute('aria-busy', 'true');
    if (firstPage) {
      state.textContent = 'Loading items…';
      state.hidden = false;
    }
    loadMore.setAttribute('aria-disabled', 'true');
    try {
      const page = await this.api.list(this.nextToken);
      let added = 0;
      for (const item of page.items) {
        // A page can hold an item already shown (added here, listed in id order later).
        if (this.listed.has(item.id)) continue;
        this.addToList(item, etagOf(item), 'end');
        added += 1;
      }
      this.nextToken = page.nextToken;
      if (!firstPage) this.announce(`Loaded ${added} more ${added === 1 ? 'item' : 'items'}`);
    } catch (err) {
      this.handleError(err, () => void this.loadPage(), 'Your items could not be loaded');
    } finally {
      list.removeAttribute('aria-busy');
      loadMore.removeAttribute('aria-disabled');
      this.refreshListState();
    }
  }

  private refreshListState(): void {
    if (this.listState === undefined || this.loadMoreButton === undefined) return;
    this.listState.textContent = this.listed.size === 0 ? 'No items yet' : '';
    this.listState.hidden = this.listed.size !== 0;
    this.loadMoreButton.hidden = this.nextToken === undefined;
  }

  private addToList(item: Item, etag: string, where: 'start' | 'end'): ListedItem {
    const entry: ListedItem = { item, etag, element: el('li', { class: 'item' }) };
    this.listed.set(item.id, entry);
    if (where === 'start') this.list?.prepend(entry.element);
    else this.list?.append(entry.element);
    this.renderItem(entry);
    return entry;
  }

  private removeFromList(entry: ListedItem): void {
    const next = entry.element.nextElementSibling ?? entry.element.previousElementSibling;
    entry.element.remove();
    this.listed.delete(entry.item.id);
    this.refreshListState();
    // Keep keyboard users in the list: the neighbour's first button, else the list heading.
    const target = next?.querySelector('button') ?? this.listHeading;
    target?.focus();
  }

  private renderItem(entry: ListedItem): void {
    const { item } = entry;
    entry.editor = undefined;
    const edit = el('button', { type: 'button' }, 'Edit', visuallyHidden(` ${item.title}`));
    const remove = el('button', { type: 'button', class: 'danger' }, 'Delete', visuallyHidden(` ${item.title}`));
    edit.addEventListener('click', () => this.startEditing(entry));
    remove.addEventListener('click', () => void this.remove(entry, remove));
    replaceChildren(entry.element,
      el('div', { class: 'item-body' },
        el('h3', { class: item.done === true ? 'item-title done' : 'item-title' }, item.title),
        item.notes !== undefined && item.notes !== '' ? el('p', { class: 'item-notes' }, item.notes) : null,
        el('p', { class: 'item-state' }, item.done === true ? 'Done' : 'Not done')),
      el('div', { class: 'actions' }, edit, remove),
    );
  }

  private focusEditButton(entry: ListedItem): void {
    entry.element.querySelector('button')?.focus();
  }

  // ------------------------------------------------------------------ actions

  private async create(fields: ItemFields): Promise<void> {
    const form = this.createForm;
    if (form === undefined || form.isBusy()) return;
    const pending = this.pendingCreate !== undefined && sameFields(this.pendingCreate.fields, fields)
      ? this.pendingCreate
      : { key: crypto.randomUUID(), fields };
    this.pendingCreate = pending;
    form.setBusy(true);
    this.clearMessages();
    try {
      const created = await this.api.create(pending.fields, pending.key);
      this.pendingCreate = undefined;
      if (!this.listed.has(created.item.id)) this.addToList(created.item, created.etag, 'start');
      this.refreshListState();
      form.reset();
      form.focus();
      this.announce(`Added “${created.item.title}”`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 400) form.showErrors(err.details, err.details.length === 0 ? err.message : undefined);
      else this.handleError(err, () => void this.create(pending.fields), 'The item was not added');
    } finally {
      form.setBusy(false);
    }
  }

  private startEditing(entry: ListedItem): void {
    const editor = new ItemForm({
      label: `Edit ${entry.item.title}`,
      submitLabel: 'Save',
      initial: entry.item,
      onCancel: () => {
        this.renderItem(entry);
        this.focusEditButton(entry);
      },
      onSubmit: (fields) => void this.save(entry, fields),
    });
    entry.editor = editor;
    replaceChildren(entry.element, editor.element);
    editor.focus();
  }

  private async save(entry: ListedItem, fields: ItemFields): Promise<void> {
    const editor = entry.editor;
    if (editor === undefined || editor.isBusy()) return;
    editor.setBusy(true);
    this.clearMessages();
    try {
      const saved = await this.api.replace(entry.item.id, fields, entry.etag);
      entry.item = saved.item;
      entry.etag = saved.etag;
      this.renderItem(entry);
      this.focusEditButton(entry);
      this.announce(`Saved “${saved.item.title}”`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 400) editor.showErrors(err.details, err.details.length === 0 ? err.message : undefined);
      else if (err instanceof ApiError && (err.status === 412 || err.status === 404)) await this.reloadAfterConflict(entry, err.status);
      else this.handleError(err, () => void this.save(entry, fields), 'Your change was not saved');
    } finally {
      editor.setBusy(false);
    }
  }

  private async remove(entry: ListedItem, button: HTMLButtonElement): Promise<void> {
    if (button.getAttribute('aria-disabled') === 'true') return;
    button.setAttribute('aria-disabled', 'true');
    this.clearMessages();
    try {
      await this.api.delete(entry.item.id, entry.etag);
      this.removeFromList(entry);
      this.announce(`Deleted “${entry.item.title}”`);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 412 || err.status === 404)) await this.reloadAfterConflict(entry, err.status);
      else this.handleError(err, () => void this.remove(entry, button), 'The item was not deleted');
    } finally {
      button.removeAttribute('aria-disabled');
    }
  }

  /** After 412 (changed elsewhere) or 404 (deleted elsewhere): show the item as it is now. */
  private async reloadAfterConflict(entry: ListedItem, status: number): Promise<void> {
    try {
      if (status === 412) {
        const current = await this.api.get(entry.item.id);
        entry.item = current.item;
        entry.etag = current.etag;
        this.renderItem(entry);
        this.focusEditButton(entry);
        this.showAlert('This item was changed elsewhere. It now shows the latest version: make your change again if you still want it.');
        return;
      }
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) {
        this.handleError(err, () => void this.reloadAfterConflict(entry, status), 'The item could not be reloaded');
        return;
      }
    }
    this.removeFromList(entry);
    this.showAlert(`“${entry.item.title}” was deleted elsewhere.`);
  }

  // ------------------------------------------------------------------ messages

  /** Maps a failure to what the user can do: sign in again, retry, or read why. */
  private handleError(err: unknown, retry: () => void, what: string): void {
    if (err instanceof SessionExpiredError) {
      this.showSessionExpired();
      return;
    }
    if (err instanceof NetworkError) {
      this.showAlert(`${what}: the service could not be reached. Check your connection and try again.`, { label: 'Try again', run: retry });
      return;
    }
    if (err instanceof ApiError && err.transient) {
      this.showAlert(`${what}: the service is unavailable right now (${err.status}). Try again.`, { label: 'Try again', run: retry });
      return;
    }
    if (err instanceof ApiError && err.status === 403) {
      this.showAlert(`${what}: your account is not allowed to do this.`);
      return;
    }
    const reference = err instanceof ApiError && err.requestId !== undefined ? ` (reference ${err.requestId})` : '';
    this.showAlert(`${what}: ${messageOf(err)}${reference}`, { label: 'Try again', run: retry });
  }

  private showAlert(message: string, action?: AlertAction): void {
    const children: Node[] = [el('p', {}, message)];
    let button: HTMLButtonElement | undefined;
    if (action !== undefined) {
      button = el('button', { type: 'button', class: 'primary' }, action.label);
      button.addEventListener('click', () => {
        this.clearMessages();
        action.run();
      });
      children.push(button);
    }
    replaceChildren(this.alertRegion, ...children);
    // The way out of the problem is one Tab away at most; on "session expired" it is the only way.
    button?.focus();
  }

  /** Clears both regions when a new action starts, so no stale message stays on screen. */
  private clearMessages(): void {
    replaceChildren(this.alertRegion);
    this.statusRegion.textContent = '';
  }

  /** A polite announcement; cleared first so that the same text twice is announced twice. */
  private announce(message: string): void {
    this.statusRegion.textContent = '';
    requestAnimationFrame(() => {
      this.statusRegion.textContent = message;
    });
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
