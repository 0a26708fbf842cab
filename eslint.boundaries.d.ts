// Types of eslint.boundaries.js, for test/unit/boundaries.test.ts.
import type { Linter } from 'eslint';

export const PURE_CORE_MESSAGE: string;
export const CONNECTOR_MESSAGE: string;
export const SQL_MESSAGE: string;
export const STORE_PIPELINE_MESSAGE: string;
export const STORE_PIPELINE_VIOLATORS: string[];
export const boundaries: Linter.Config[];
