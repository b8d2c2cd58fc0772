import { hasDimensionSet, METRIC_CATALOG, type CatalogKey } from '../src/runtime/metric-catalog.ts';

/** The namespace the runtime publishes to (config `metrics.namespace`, set by instance-config.ts). */
export const WARDEN_NAMESPACE = 'Warden';

export interface MetricRef {
  namespace: string;
  name: string;
  /** Dimension name → value, in the order dashboards list them. */
  dimensions: Record<string, string>;
}

/**
 * A warden metric as the code publishes it: the name comes from the catalog and the dimension set
 * must be one of its declared sets, so a dashboard cannot ask for a combination that never exists.
 */
export function wardenMetric(key: CatalogKey, service: string, extra: Record<string, string> = {}): MetricRef {
  const spec = METRIC_CATALOG[key];
  const dimensions = { Service: service, ...extra };
  if (!hasDimensionSet(spec, Object.keys(dimensions))) {
    throw new Error(`metric ${spec.name} is not published with dimensions [${Object.keys(dimensions).join(', ')}]`);
  }
  return { namespace: WARDEN_NAMESPACE, name: spec.name, dimensions };
}

/** An AWS service metric (AWS/SQS, AWS/AutoScaling, ...). */
export function awsMetric(namespace: `AWS/${string}`, name: string, dimensions: Record<string, string>): MetricRef {
  return { namespace, name, dimensions };
}
