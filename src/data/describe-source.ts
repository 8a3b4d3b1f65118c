// A data source in words, for records and messages. Pure: run.json's record is built in the workflow.
import type { DataSource } from '../run-spec/inputs';

export function describeSource(source: DataSource): string {
  switch (source.kind) {
    case 'hub':
      return `${source.id}${source.config ? `/${source.config}` : ''}:${source.split}${source.revision ? `@${source.revision}` : ''}`;
    case 'path':
      return source.path;
    case 'uri':
      return source.uri;
    default:
      return `preset asset ${source.path}`;
  }
}
