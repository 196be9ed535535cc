export { LOG_LEVELS, levelName, type LogLevelName } from './levels.js';
export { MAX_LINE_CHARS, parseLogLine, type LogRow } from './lines.js';
export { BadCursorError, openLogStore, type FileOffset, type LogEntry, type LogQuery, type LogStore, type LogStoreOptions } from './store.js';
