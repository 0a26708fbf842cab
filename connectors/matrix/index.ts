// The Matrix platform: the /messages + /sync connector, the Element export importer, config and secrets.
import type { ConnectorDefinition, Importer } from '../types.js';
import { MatrixConnector } from './connector.js';
import { matrixConfigSchema, MATRIX_SECRET_KEYS, type MatrixConfig } from './config.js';
import type { MatrixCursor } from './cursor.js';
import { elementExportImporter } from './importer-element.js';

export { createMatrixConnector, MatrixConnector, ENCRYPTED_ROOM_REASON } from './connector.js';
export { matrixConfigSchema, MATRIX_SECRET_KEYS, type MatrixConfig, type MatrixConfigInput } from './config.js';
export { matrixCursorSchema, parseMatrixCursor, emptyMatrixCursor, type MatrixCursor, type RoomState } from './cursor.js';
export { normalizeMatrix, stripReplyFallback, htmlToPlain, permalink, MATRIX_NORMALIZER_VERSION, SKIP as MATRIX_SKIP, type MatrixItem, type MatrixEvent } from './normalize.js';
export { elementExportImporter, foldElementExport, ELEMENT_EXPORT_FORMAT } from './importer-element.js';

export const matrixImporters: Importer[] = [elementExportImporter];

export const matrixDefinition: ConnectorDefinition<MatrixConfig, MatrixCursor> = {
  platform: 'matrix',
  configSchema: matrixConfigSchema,
  secretKeys: [...MATRIX_SECRET_KEYS],
  create: (config, deps) => new MatrixConnector(config, deps),
};
