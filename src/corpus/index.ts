/** Corpus ingestion: readers for text, events and jsonl inputs, the vocabulary and the kernel-ready corpus. */
export type { CorpusFormat, RawDocuments, ReadOptions } from './types.js';
export { CORPUS_FORMATS, documentCount } from './types.js';
export { formatFromName, readDocuments } from './documents.js';
export { DEFAULT_MAX_LINE_BYTES, forEachLine, type LineReaderOptions, type LineReaderResult } from './lines.js';
export { parseTime } from './time.js';
export { Vocabulary, buildVocabulary, type VocabularyBuild, type VocabularyOptions } from './vocabulary.js';
export {
  loadCorpus,
  toCorpus,
  vocabularyIds,
  type Corpus,
  type CorpusOptions,
  type LoadCorpusOptions,
} from './corpus.js';
export { readStopwords } from './stopwords.js';
export { corpusStats, lengthSummary, quantile, type CorpusStats, type LengthSummary } from './stats.js';
