// Statements a piece of work sent to the store: a Kysely plugin counting every executed statement (the
// query builder's, raw `sql`, runStatement and insertRows alike; BEGIN and COMMIT are the driver's and
// not counted). A worker gives each job a store handle with its own counter (src/app.ts), and the
// job's result carries the count: on PostgreSQL each statement is a round trip, so statements per
// item show where a stage is not set-based (the e2e bench prints them per queue).
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';

export class QueryCounter implements KyselyPlugin {
  queries = 0;
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    this.queries++;
    return args.result;
  }
}
