/**
 * A lab topology as sztp-lab reads it from `topologies/*.yaml` (after schema validation and
 * defaults): networks, nodes of six kinds, and the device records the servers answer with.
 * The YAML uses the same names; `harness/schemas/topology.schema.json` describes every field.
 */
export interface Topology {
  /** Lab name: letters, digits and dashes; container and network names derive from it. */
  name: string;
  /** The file it came from (for messages); absent for topologies built in code. */
  file?: string;
  pki: {
    key: 'ecdsa-p256' | 'ecdsa-p384' | 'rsa-2048';
    pinnedDomain: 'root' | 'intermediate';
    domain: string;
  };
  networks: Record<string, NetworkSpec>;
  nodes: Record<string, NodeSpec>;
  /** Per server node: serial -> what that server answers the device. */
  records: Record<string, Record<string, RecordSpec>>;
  /** Serials records may name that no device node has (records for devices never seen). */
  unknownSerials?: string[];
}

export interface NetworkSpec {
  ipv6: boolean;
}

export type NodeSpec = DhcpNode | DnsNode | ServerNode | ImageServerNode | DeviceNode;

interface NodeBase {
  /** The lab network the node joins (default: the only network). */
  network: string;
  /** Replace the node's image with your own implementation (same contract). */
  image?: string;
}

export interface DhcpNode extends NodeBase {
  kind: 'dhcp';
  server: 'kea' | 'isc';
  /** Address families served: DHCPv4 (option 143), DHCPv6 (option 136). */
  families: (4 | 6)[];
  /**
   * Option 143/136 content, in order: server node names (their lab address and port) or
   * literal `https://` URIs (for dead or foreign servers).
   */
  bootstrapServers: string[];
  /** Send the option in the plain-text form some peers use (non-conformant, for tests). */
  plainText?: boolean;
}

export interface DnsNode extends NodeBase {
  kind: 'dns';
  domain: string;
  /** SRV `_sztp._tcp` targets: server node names. */
  srv: string[];
  /** Serials whose signed artifacts (from the given server node's records) go into TXT. */
  txt: Record<string, string>;
}

export interface ServerNode extends NodeBase {
  kind: 'bootstrap-server' | 'redirect-server';
  port: number;
  /** TLS versions the server accepts. */
  tls: { minVersion: 'TLSv1.2' | 'TLSv1.3'; maxVersion: 'TLSv1.2' | 'TLSv1.3' };
}

export interface ImageServerNode extends NodeBase {
  kind: 'image-server';
  port: number;
  /** Firmware files to make: file name -> manifest. */
  images: Record<string, { osName: string; osVersion: string; size?: number }>;
  clientCertificates: 'off' | 'optional' | 'on';
}

export interface DeviceNode extends NodeBase {
  kind: 'device';
  serial: string;
  model: string;
  profile: 'junos' | 'rfc8572';
  /** The image each routing engine runs from the factory. */
  startingImage: { osName: string; osVersion: string };
  /** `re0` always; `re1` for dual routing engines. */
  routingEngines: ('re0' | 're1')[];
  keyAlgorithm: 'ecc-p256' | 'rsa-2048';
  sources: ('usb' | 'dns' | 'dhcp4' | 'dhcp6' | 'well-known')[];
  /** Preconfigured well-known servers: server node names. */
  wellKnownServers: string[];
  /** Whether the device holds the lab's TLS trust anchor for bootstrap servers. */
  trustsServers: boolean;
  /** More voucher trust anchors (PEM files, absolute paths), beside the lab's own MASA. */
  voucherTrustAnchors: string[];
  /** Clock: system time shifted by skewSeconds, or none (a clockless device). */
  clock: { mode: 'system' | 'none'; skewSeconds: number };
  /** Power on when the lab comes up (scenarios may power devices on themselves). */
  powerOn: boolean;
  /** Dual-RE flavour (see the dual routing engines issue): junos or junos-evolved. */
  flavour?: 'junos' | 'junos-evolved';
  /** The image re1 runs from the factory, when it differs (dual routing engines). */
  backupStartingImage?: { osName: string; osVersion: string };
  /** Negative tests: re1's DevID comes from a CA that is not the manufacturer's. */
  rogueRe1?: boolean;
}

/**
 * What a server answers one device. The YAML is friendlier than the wire: a boot image names
 * a file of an image-server node (its URI and SHA-256 are filled in at lab up), configuration
 * and scripts are plain text (base64-encoded at lab up), redirect entries name server nodes.
 */
export interface RecordSpec {
  onboarding?: {
    /** A file of an image-server node (`sha256` announces another hash, for negative tests). */
    bootImage?:
      | { server: string; file: string; sha256?: string }
      | { osName: string; osVersion: string; uris: string[]; sha256: string };
    preConfigurationScript?: string;
    configuration?: string;
    configurationHandling?: 'merge' | 'replace';
    postConfigurationScript?: string;
  };
  /**
   * trustAnchor: true sends the lab's TLS root for the server, false none, and `wrong-ca` a
   * real CA certificate that did not issue the server's (a stale or mistaken anchor).
   */
  redirect?: { server: string; trustAnchor: boolean | 'wrong-ca' }[];
  signed: boolean;
  encoding: 'json' | 'xml';
  reportingLevel: 'minimal' | 'verbose';
  voucher?: {
    binding?: 'auto' | 'nonce' | 'expiry';
    validityDays?: number;
    revocationChecks?: boolean;
  };
  /** CRLs stapled to the owner-certificate artifact (signed records). */
  crls?: 'none' | 'valid' | 'owner-revoked';
  /** The answer to signed-data-preferred: Appendix B promotion, or the data signed. */
  untrusted: 'promote' | 'signed';
  /**
   * Bootstrapping data captured elsewhere, answered as it is: a JSON get-bootstrapping-data
   * reply or a folder of `.cms` files (an absolute path once loaded).
   */
  replay?: string;
}
