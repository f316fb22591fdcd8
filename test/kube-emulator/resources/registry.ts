import { builtinResourceTypes } from './builtin-resources.js';
import { resourceName, type ResourceType } from './resource-type.js';

/**
 * The resource types the emulator serves, keyed by the contract's ResourceName. Custom resources
 * come and go with their CustomResourceDefinitions.
 */
export class ResourceRegistry {
  private readonly types = new Map<string, ResourceType>();

  constructor(types: ResourceType[] = builtinResourceTypes()) {
    for (const type of types) this.register(type);
  }

  register(type: ResourceType): void {
    this.types.set(resourceName(type), type);
  }

  unregister(name: string): void {
    this.types.delete(name);
  }

  get(name: string): ResourceType | undefined {
    return this.types.get(name);
  }

  /** The type served at `/api(s)/{group}/{version}/.../{plural}`. */
  find(group: string, version: string, plural: string): ResourceType | undefined {
    const type = this.types.get(resourceName({ group, plural }));
    return type?.version === version ? type : undefined;
  }

  all(): ResourceType[] {
    return [...this.types.values()];
  }
}
