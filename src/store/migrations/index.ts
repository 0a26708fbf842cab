// Forward-only, numbered migrations, one file each. Written with Kysely's schema builder so that the
// same list runs on SQLite and PostgreSQL. Never edit a migration that has shipped: add the next one.
import type { Migration } from 'kysely';
import { m0001 } from './0001-initial.js';
import { m0002 } from './0002-web.js';
import { m0003 } from './0003-copy-key.js';
import { m0005 } from './0005-digest-delivery.js';
import { m0004 } from './0004-item-summary.js';
import { m0006 } from './0006-org-hints.js';
import { m0007 } from './0007-lookup-indexes.js';
import { m0008 } from './0008-cluster-state.js';
import { m0009 } from './0009-copy-slot.js';
import { m0010 } from './0010-pending-work.js';
import { m0011 } from './0011-need-text.js';
import { m0012 } from './0012-kind-groups.js';
import { m0013 } from './0013-trackers-webhooks.js';
import { m0014 } from './0014-out-loop.js';
import { m0015 } from './0015-vote-subject.js';
import { m0016 } from './0016-describe-pending.js';
import { m0017 } from './0017-pg-search-index.js';
import { m0018 } from './0018-messages-identity.js';

export const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_web': m0002,
  '0003_copy_key': m0003,
  '0005_digest_delivery': m0005,
  '0004_item_summary': m0004,
  '0006_org_hints': m0006,
  '0007_lookup_indexes': m0007,
  '0008_cluster_state': m0008,
  '0009_copy_slot': m0009,
  '0010_pending_work': m0010,
  '0011_need_text': m0011,
  '0012_kind_groups': m0012,
  '0013_trackers_webhooks': m0013,
  '0014_out_loop': m0014,
  '0015_vote_subject': m0015,
  '0016_describe_pending': m0016,
  '0017_pg_search_index': m0017,
  '0018_messages_identity': m0018,
};
