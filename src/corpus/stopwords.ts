/** A stopword list: one word per line (surrounding white space ignored, blank lines and `#` comments skipped). */
import { InputError } from '../errors.js';
import { forEachLine } from './lines.js';

export async function readStopwords(path: string): Promise<Set<string>> {
  const words = new Set<string>();
  await forEachLine(path, (line, lineNumber) => {
    const word = line.trim();
    if (word === '' || word.startsWith('#')) return;
    if (/\s/.test(word)) {
      throw new InputError(`'${word}' holds white space: a stopword list has one word per line`, path, lineNumber);
    }
    words.add(word);
  });
  return words;
}
