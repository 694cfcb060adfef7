import type { Migration } from 'kysely';
import * as m0001 from './0001_foundation';
import * as m0002 from './0002_room_previews';
import * as m0003 from './0003_analytics';
import * as m0004 from './0004_webhooks';
import * as m0005 from './0005_recommender';
import * as m0006 from './0006_subscription_periods';
import * as m0007 from './0007_events_outbox';
import * as m0008 from './0008_vod';
import * as m0009 from './0009_creator_business';
import * as m0010 from './0010_analytics_fees';
import * as m0011 from './0011_polls';
import * as m0012 from './0012_derived_balances';
import * as m0013 from './0013_ledger_statement_checks';
import * as m0014 from './0014_user_changes_notify';
import * as m0015 from './0015_follows';
import * as m0016 from './0016_same_statement_references';
import * as m0017 from './0017_entitlement_indexes';
import * as m0018 from './0018_room_tip_totals';

/**
 * Every migration, in order. Listed statically (not read from the directory) so they work the
 * same from TypeScript sources, compiled output and bundles.
 */
export const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_room_previews': m0002,
  '0003_analytics': m0003,
  '0004_webhooks': m0004,
  '0005_recommender': m0005,
  '0006_subscription_periods': m0006,
  '0007_events_outbox': m0007,
  '0008_vod': m0008,
  '0009_creator_business': m0009,
  '0010_analytics_fees': m0010,
  '0011_polls': m0011,
  '0012_derived_balances': m0012,
  '0013_ledger_statement_checks': m0013,
  '0014_user_changes_notify': m0014,
  '0015_follows': m0015,
  '0016_same_statement_references': m0016,
  '0017_entitlement_indexes': m0017,
  '0018_room_tip_totals': m0018,
};
