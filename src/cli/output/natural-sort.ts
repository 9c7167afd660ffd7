/** fvbommel/sortorder's NaturalLess, which docker uses to order networks and volumes: digit runs compare as numbers. */
export function naturalLess(a: string, b: string): boolean {
  let i = 0, j = 0;
  const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";
  while (i < a.length && j < b.length) {
    const ca = a[i]!, cb = b[j]!;
    if (isDigit(ca) && isDigit(cb)) {
      let ei = i, ej = j;
      while (isDigit(a[ei])) ei++;
      while (isDigit(b[ej])) ej++;
      // leading zeros skipped; then the longer run is the bigger number
      let si = i, sj = j;
      while (si < ei - 1 && a[si] === "0") si++;
      while (sj < ej - 1 && b[sj] === "0") sj++;
      const na = a.slice(si, ei), nb = b.slice(sj, ej);
      if (na.length !== nb.length) return na.length < nb.length;
      if (na !== nb) return na < nb;
      // equal numbers: fewer leading zeros first
      if (ei - i !== ej - j) return ei - i < ej - j;
      i = ei; j = ej;
      continue;
    }
    if (ca !== cb) return ca < cb;
    i++; j++;
  }
  return a.length - i < b.length - j;
}
