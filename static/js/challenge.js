// The proof of work of the entry and invitation forms (contest/botguard.py): the ALTCHA widget's
// "external" build, served from this site, computes in a worker file of this site too, so that
// no inline script, style or blob worker is needed within the Content-Security-Policy.
const worker = new URL("altcha-pbkdf2.js", import.meta.url).href;
globalThis.$altcha.algorithms.set("PBKDF2/SHA-256", () => new Worker(worker));
