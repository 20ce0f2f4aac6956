import { webcrypto } from "node:crypto";

// @peculiar/x509 registers its algorithms with tsyringe, which refuses to load
// unless a Reflect metadata polyfill (reflect-metadata or similar) is already
// installed, and only uses it while the library's classes are being defined.
// Rather than add a second dependency and patch the global Reflect for the
// whole process (and for every project that imports this one), a minimal
// metadata store is lent to Reflect for the duration of the import and then
// taken back. A polyfill someone else installed is left alone and used.

type MetadataReflect = typeof Reflect & {
  defineMetadata?: (key: unknown, value: unknown, target: object, property?: PropertyKey) => void;
  getOwnMetadata?: (key: unknown, target: object, property?: PropertyKey) => unknown;
  getMetadata?: (key: unknown, target: object, property?: PropertyKey) => unknown;
};

const METHODS = ["defineMetadata", "getOwnMetadata", "getMetadata"] as const;

function lendMetadataApi(): () => void {
  const reflect = Reflect as MetadataReflect;
  if (typeof reflect.getMetadata === "function") return () => {};
  const store = new WeakMap<object, Map<PropertyKey | undefined, Map<unknown, unknown>>>();
  const own = (target: object, property: PropertyKey | undefined, create: boolean) => {
    let byProperty = store.get(target);
    if (byProperty === undefined && create) store.set(target, (byProperty = new Map()));
    let byKey = byProperty?.get(property);
    if (byKey === undefined && create) byProperty!.set(property, (byKey = new Map()));
    return byKey;
  };
  const lent: Required<Pick<MetadataReflect, (typeof METHODS)[number]>> = {
    defineMetadata: (key, value, target, property) => void own(target, property, true)!.set(key, value),
    getOwnMetadata: (key, target, property) => own(target, property, false)?.get(key),
    getMetadata: (key, target, property) => {
      for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
        const byKey = own(t, property, false);
        if (byKey?.has(key)) return byKey.get(key);
      }
      return undefined;
    },
  };
  for (const method of METHODS) {
    Object.defineProperty(reflect, method, { value: lent[method], configurable: true, writable: true });
  }
  return () => {
    for (const method of METHODS) if (reflect[method] === lent[method]) delete reflect[method];
  };
}

const giveBack = lendMetadataApi();
let loaded: typeof import("@peculiar/x509");
try {
  loaded = await import("@peculiar/x509");
} finally {
  giveBack();
}

// The library types WebCrypto with the DOM lib, which this project does not load.
loaded.cryptoProvider.set(webcrypto as unknown as ReturnType<typeof loaded.cryptoProvider.get>);

/** @peculiar/x509, loaded without a global Reflect polyfill and set to use Node's WebCrypto. */
export const x509 = loaded;
