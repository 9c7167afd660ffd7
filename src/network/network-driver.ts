/** What a driver needs to know about a network. */
export interface DriverNetwork {
  id: string;
  bridge: string;
  subnet: string;              // "10.213.1.0/24"
  gateway: string;
  internal: boolean;
  mtu?: number;
}

/** One container's interface on one network. */
export interface DriverEndpoint {
  containerId: string;
  netnsPath: string;
  ifName: string;              // eth0, eth1, ...
  ip: string;
  prefixLen: number;
  /** The MAC address to give the interface; the driver picks one when absent. */
  mac?: string;
}

/**
 * Puts a container's network namespace on a network. create/delete are idempotent; join returns the
 * interface's MAC address; leave undoes join and tolerates a namespace that is already gone.
 */
export interface NetworkDriver {
  readonly name: string;
  createNetwork(net: DriverNetwork): Promise<void>;
  deleteNetwork(net: DriverNetwork): Promise<void>;
  join(net: DriverNetwork, ep: DriverEndpoint): Promise<{ mac: string }>;
  leave(net: DriverNetwork, ep: DriverEndpoint): Promise<void>;
}
