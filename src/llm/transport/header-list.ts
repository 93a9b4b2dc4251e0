/**
 * Sets a header in a flat header list (`[name, value, ...]`, the form `http.request` and
 * `res.writeHead` take) as `setHeader` sets it in a header map: a name already there, in any
 * case, keeps its place and takes this spelling and value; a new one goes last.
 *
 * @example
 * const list = ['Content-Type', 'text/plain'];
 * putHeader(list, 'content-type', 'application/json'); // ['content-type', 'application/json']
 */
export function putHeader<L extends unknown[]>(list: L, name: string, value: L[number]): void {
  for (let i = 0; i < list.length; i += 2) {
    const other = list[i] as string;
    if (other.length === name.length && other.toLowerCase() === name.toLowerCase()) {
      list[i] = name;
      list[i + 1] = value;
      return;
    }
  }
  list.push(name, value);
}
