import { StatusError, type KubeObject } from './contract.js';
import { admit, initialStatus } from './admission.js';
import { matchesFields, parseFieldSelector } from './field-selector.js';
import { LabelSelectorError, parseLabelSelector } from './label-selector.js';
import { applyPatch, APPLY_PATCH, mediaType } from './patch/patch-types.js';
import { groupVersion, resourceName, type ResourceType } from './resources/resource-type.js';
import { scaleOf, withScale } from './scale.js';
import { badRequest, invalid, methodNotAllowed, notFound } from './status-errors.js';
import type { DeletePropagation, MemoryStore } from './store.js';

/** One REST call on a resource, after routing. */
export interface ResourceCall {
  method: string;
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
  query: URLSearchParams;
  body: string;
  contentType?: string;
}

export interface ApiResult {
  status: number;
  body: unknown;
}

function parseJson(body: string): KubeObject {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object');
    const object = parsed as KubeObject;
    object.metadata ??= {};
    return object;
  } catch (error) {
    throw badRequest(`the body of the request could not be decoded: ${(error as Error).message}`);
  }
}

/** Object CRUD, patch, list and subresources over a {@link MemoryStore}, as kube-apiserver answers them. */
export class KubeApi {
  private clusterIps = 0;

  constructor(private readonly store: MemoryStore) {}

  /** Services get a cluster IP from 10.96.0.0/16 on create, as the apiserver's allocator does. */
  private allocateClusterIp(object: KubeObject): void {
    const spec = (object.spec ?? {}) as {
      type?: string;
      clusterIP?: string;
      clusterIPs?: string[];
    };
    object.spec = spec;
    if (spec.type === 'ExternalName' || spec.clusterIP) return;
    this.clusterIps++;
    const ip = `10.96.${Math.floor(this.clusterIps / 250)}.${(this.clusterIps % 250) + 1}`;
    spec.clusterIP = ip;
    spec.clusterIPs = [ip];
  }

  /** The object as clients see it: apiVersion and kind first. */
  present(type: ResourceType, object: KubeObject): KubeObject {
    return { ...object, apiVersion: groupVersion(type), kind: type.kind };
  }

  handle(call: ResourceCall): ApiResult {
    const { method, name, subresource } = call;
    if (subresource !== undefined && subresource !== 'status' && subresource !== 'scale') {
      throw notFound(call.type, name ?? '');
    }
    if (subresource === 'status' && !call.type.status) throw notFound(call.type, name ?? '');
    if (subresource === 'scale' && !call.type.scale) throw notFound(call.type, name ?? '');
    if (name === undefined) {
      if (method === 'GET') return { status: 200, body: this.list(call) };
      if (method === 'POST') return { status: 201, body: this.create(call) };
      if (method === 'DELETE') return { status: 200, body: this.deleteCollection(call) };
      throw methodNotAllowed(`the server does not allow this method on the requested resource`);
    }
    switch (method) {
      case 'GET':
        return { status: 200, body: this.view(call, this.read(call.type, call.namespace, name)) };
      case 'PUT':
        return { status: 200, body: this.update(call, name) };
      case 'PATCH':
        return this.patch(call, name);
      case 'DELETE':
        return { status: 200, body: this.delete(call, name) };
      default:
        throw methodNotAllowed(`the server does not allow this method on the requested resource`);
    }
  }

  private read(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const object = this.store.get(resourceName(type), namespace, name);
    if (!object) throw notFound(type, name);
    return object;
  }

  private view(call: ResourceCall, object: KubeObject): KubeObject {
    if (call.subresource === 'scale' && call.type.scale)
      return scaleOf(call.type, call.type.scale, object);
    return this.present(call.type, object);
  }

  private list(call: ResourceCall): KubeObject {
    const { type, query } = call;
    try {
      parseLabelSelector(query.get('labelSelector') ?? '');
    } catch (error) {
      if (error instanceof LabelSelectorError) throw badRequest(error.message);
      throw error;
    }
    const fields = parseFieldSelector(query.get('fieldSelector') ?? undefined);
    const key = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
    const after = decodeContinue(query.get('continue'));
    const limit = Number(query.get('limit') ?? '0');
    // Only the page is copied out of the store: paging through 10,000 objects stays linear.
    const { items: page, remaining } = this.store.listPage(resourceName(type), {
      ...(call.namespace !== undefined ? { namespace: call.namespace } : {}),
      labelSelector: query.get('labelSelector') ?? '',
      filter: (o) => matchesFields(fields, o),
      ...(after !== undefined ? { after } : {}),
      ...(limit > 0 ? { limit } : {}),
    });
    const more = limit > 0 && remaining > 0;
    const last = page[page.length - 1];
    return {
      apiVersion: groupVersion(type),
      kind: type.listKind,
      metadata: {
        resourceVersion: this.store.resourceVersion(),
        ...(more && last
          ? {
              continue: encodeContinue(key(last)),
              remainingItemCount: remaining,
            }
          : {}),
      },
      items: page.map((o) => (type.custom ? this.present(type, o) : stripTypeMeta(o))),
    };
  }

  private create(call: ResourceCall): KubeObject {
    const { type } = call;
    if (call.subresource !== undefined)
      throw methodNotAllowed('the server does not allow this method on the requested resource');
    const object = parseJson(call.body);
    if (type.namespaced) {
      const given = object.metadata.namespace;
      if (
        given !== undefined &&
        given !== '' &&
        call.namespace !== undefined &&
        given !== call.namespace
      ) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      const namespace = call.namespace ?? given;
      if (!namespace) throw badRequest('the server could not find the requested resource');
      if (!this.store.get('namespaces', undefined, namespace)) {
        throw notFound({ group: '', plural: 'namespaces', kind: 'Namespace' }, namespace);
      }
      object.metadata.namespace = namespace;
    }
    Object.assign(object, { apiVersion: groupVersion(type), kind: type.kind });
    if (resourceName(type) === 'services' && !isDryRun(call.query)) this.allocateClusterIp(object);
    if (type.status) {
      const status = initialStatus(type, object);
      if (status === undefined) delete object.status;
      else object.status = status;
    }
    if (!object.metadata.name && object.metadata.generateName) {
      admit(
        type,
        { ...object, metadata: { ...object.metadata, name: undefined } },
        isStrict(call.query),
      );
    } else {
      admit(type, object, isStrict(call.query));
    }
    if (isDryRun(call.query)) return this.present(type, object);
    return this.present(type, this.store.create(resourceName(type), object));
  }

  private update(call: ResourceCall, name: string): KubeObject {
    const object = parseJson(call.body);
    if (call.subresource === 'scale' && call.type.scale) {
      const current = this.read(call.type, call.namespace, name);
      const next = withScale(call.type.scale, current, object);
      return scaleOf(call.type, call.type.scale, this.write(call, next, false));
    }
    if (object.metadata.name !== undefined && object.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${object.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    if (
      call.type.namespaced &&
      object.metadata.namespace &&
      object.metadata.namespace !== call.namespace
    ) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    object.metadata.name = name;
    if (call.type.namespaced) object.metadata.namespace = call.namespace;
    if (call.type.custom && !object.metadata.resourceVersion) {
      throw invalid(call.type, name, [
        {
          reason: 'FieldValueInvalid',
          field: 'metadata.resourceVersion',
          message: 'Invalid value: 0x0: must be specified for an update',
        },
      ]);
    }
    return this.present(call.type, this.write(call, object, call.subresource === 'status'));
  }

  private write(call: ResourceCall, object: KubeObject, status: boolean): KubeObject {
    const { type } = call;
    Object.assign(object, { apiVersion: groupVersion(type), kind: type.kind });
    const resource = resourceName(type);
    if (status) {
      if (isDryRun(call.query)) return object;
      return this.store.updateStatus(resource, object);
    }
    admit(type, object, isStrict(call.query));
    if (isDryRun(call.query)) return object;
    return this.store.update(resource, object);
  }

  private patch(call: ResourceCall, name: string): ApiResult {
    const { type } = call;
    const current = this.store.get(resourceName(type), call.namespace, name);
    const apply = mediaType(call.contentType) === APPLY_PATCH;
    if (apply && !call.query.get('fieldManager')) {
      throw invalid({ group: 'meta.k8s.io', plural: 'patchoptions', kind: 'PatchOptions' }, '', [
        {
          reason: 'FieldValueRequired',
          field: 'fieldManager',
          message: 'Required value: is required for apply patch',
        },
      ]);
    }
    if (!current) {
      if (!apply || call.subresource !== undefined) throw notFound(type, name);
      const body = applyPatch(call.contentType, type.custom, {}, call.body) as KubeObject;
      return {
        status: 201,
        body: this.create({
          ...call,
          body: JSON.stringify({ ...body, metadata: { ...body.metadata, name } }),
        }),
      };
    }
    const base = this.view(call, current);
    const patched = applyPatch(call.contentType, type.custom, base, call.body) as KubeObject;
    if (typeof patched !== 'object' || patched === null || Array.isArray(patched)) {
      throw badRequest('the patched object is not an object');
    }
    patched.metadata ??= {};
    if (call.subresource === 'scale' && type.scale) {
      const next = withScale(type.scale, current, patched);
      return { status: 200, body: scaleOf(type, type.scale, this.write(call, next, false)) };
    }
    patched.metadata.name = name;
    if (type.namespaced) patched.metadata.namespace = call.namespace;
    return {
      status: 200,
      body: this.present(type, this.write(call, patched, call.subresource === 'status')),
    };
  }

  private delete(call: ResourceCall, name: string): unknown {
    const { type } = call;
    if (call.subresource !== undefined)
      throw methodNotAllowed('the server does not allow this method on the requested resource');
    const options = deleteOptions(call);
    if (isDryRun(call.query)) return this.present(type, this.read(type, call.namespace, name));
    const deleted = this.store.delete(resourceName(type), call.namespace, name, options);
    if (type.custom || resourceName(type) === 'pods' || resourceName(type) === 'namespaces') {
      return this.present(type, deleted);
    }
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: {
        name,
        ...(type.group ? { group: type.group } : {}),
        kind: type.plural,
        uid: deleted.metadata.uid,
      },
    };
  }

  private deleteCollection(call: ResourceCall): KubeObject {
    const list = this.list({
      ...call,
      query: new URLSearchParams({ ...Object.fromEntries(call.query), limit: '0' }),
    });
    const items = (list.items as KubeObject[]).map((o) =>
      this.present(
        call.type,
        this.store.delete(
          resourceName(call.type),
          o.metadata.namespace,
          o.metadata.name ?? '',
          deleteOptions(call),
        ),
      ),
    );
    return { ...list, items };
  }
}

function isStrict(query: URLSearchParams): boolean {
  return query.get('fieldValidation') === 'Strict';
}

function isDryRun(query: URLSearchParams): boolean {
  return query.getAll('dryRun').includes('All');
}

function deleteOptions(call: ResourceCall): {
  propagationPolicy?: DeletePropagation;
  preconditions?: { uid?: string; resourceVersion?: string };
} {
  let body: {
    propagationPolicy?: DeletePropagation;
    preconditions?: { uid?: string; resourceVersion?: string };
  } = {};
  if (call.body.trim() !== '') {
    try {
      body = JSON.parse(call.body) as typeof body;
    } catch {
      throw badRequest('the body of the request could not be decoded as DeleteOptions');
    }
  }
  const policy = (call.query.get('propagationPolicy') ?? body.propagationPolicy) as
    DeletePropagation | undefined;
  if (policy !== undefined && !['Background', 'Foreground', 'Orphan'].includes(policy)) {
    throw new StatusError(
      422,
      'Invalid',
      `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`,
    );
  }
  return {
    ...(policy ? { propagationPolicy: policy } : {}),
    ...(body.preconditions ? { preconditions: body.preconditions } : {}),
  };
}

function stripTypeMeta(object: KubeObject): KubeObject {
  const { apiVersion: _a, kind: _k, ...rest } = object;
  return rest as KubeObject;
}

function encodeContinue(key: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', start: key })).toString('base64');
}

function decodeContinue(token: string | null): string | undefined {
  if (!token) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { start?: unknown };
    if (typeof parsed.start !== 'string') throw new Error('no start');
    return parsed.start;
  } catch {
    throw badRequest(`continue key is not valid: ${token}`);
  }
}
