// The `scriptSandbox.*` policy settings' JSON schema (type, integer bounds, enums), derived from the one zod
// schema, so package.json cannot drift from what a run accepts: a unit test compares package.json with this
// (test/unit/extension/settings-schema.test.ts). Pure: no vscode.
import { z } from 'zod';
import { PolicyInput } from '../policy/schema';
import type { PolicySetting } from './settings-layers';

export interface SettingSchema {
  type: string | string[];
  enum?: Array<string | null>;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  items?: { type: string; minLength?: number };
}

type Json = { type?: string; enum?: string[]; minimum?: number; exclusiveMinimum?: number; maximum?: number; items?: Json; properties?: Record<string, Json>; minLength?: number };

/** The schema of one policy setting; `nullable` when unset means "the profile decides" (default null). */
export function settingSchema(key: PolicySetting, nullable: boolean): SettingSchema {
  const root = z.toJSONSchema(PolicyInput, { io: 'input', target: 'draft-7' }) as Json;
  const f = key.split('.').reduce<Json | undefined>((o, p) => o?.properties?.[p], root);
  if (!f?.type) throw new Error(`no schema for ${key}`);
  const out: SettingSchema = { type: nullable ? [f.type, 'null'] : f.type };
  if (f.enum) out.enum = nullable ? [...f.enum, null] : [...f.enum];
  // A whole number above 0 is "at least 1" in the Settings UI; a real number keeps its exclusive bound.
  if (f.exclusiveMinimum !== undefined) {
    if (f.type === 'integer') out.minimum = Math.floor(f.exclusiveMinimum) + 1;
    else out.exclusiveMinimum = f.exclusiveMinimum;
  }
  if (f.minimum !== undefined) out.minimum = f.minimum;
  if (f.maximum !== undefined && f.maximum < Number.MAX_SAFE_INTEGER) out.maximum = f.maximum;
  if (f.items) out.items = { type: f.items.type!, ...(f.items.minLength !== undefined ? { minLength: f.items.minLength } : {}) };
  return out;
}
