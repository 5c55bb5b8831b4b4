// The newest request for a box wins. Every box of the app that an answer fills (a seller's
// card, a lot's certificate, a department's map, a lineage) may be asked again before the first
// answer comes back: a person types another RUC, clicks another lot, picks another department.
// The slower, older answer must not replace the newer one, least of all silently: a trader
// would read the wrong seller's status, a plant print the wrong lot's QR code.
//
//   const current = claim(box);
//   const answer = await ask();
//   if (!current()) return;  // a later request for this box took over
//   box.replaceChildren(...);
const requests = new WeakMap<HTMLElement, number>();
export function claim(box: HTMLElement): () => boolean {
  const n = (requests.get(box) ?? 0) + 1;
  requests.set(box, n);
  return () => requests.get(box) === n;
}
