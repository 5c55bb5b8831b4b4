// The browser's keyring: non-extractable CryptoKeys kept in IndexedDB (structured clone keeps
// them non-extractable), by a name the person chooses. Nothing here can read a private key's
// bytes; clearing the site's data forgets them.
import type { SigningKey } from "./keys.js";

const kDb = "veta";
const kStore = "keys";

function open(): Promise<IDBDatabase> {
  return new Promise((ok, fail) => {
    const req = indexedDB.open(kDb, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(kStore);
    req.onsuccess = () => ok(req.result);
    req.onerror = () => fail(req.error);
  });
}

async function tx<T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  return new Promise((ok, fail) => {
    const req = f(db.transaction(kStore, mode).objectStore(kStore));
    req.onsuccess = () => ok(req.result);
    req.onerror = () => fail(req.error);
  }).finally(() => db.close()) as Promise<T>;
}

export const saveKey = (name: string, key: SigningKey) => tx("readwrite", (s) => s.put(key, name));
export const loadKey = (name: string) => tx<SigningKey | undefined>("readonly", (s) => s.get(name));
export const keyNames = () => tx<IDBValidKey[]>("readonly", (s) => s.getAllKeys()).then((k) => k.map(String));
export const deleteKey = (name: string) => tx("readwrite", (s) => s.delete(name));
