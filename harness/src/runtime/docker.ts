import Docker from 'dockerode';
import { LabError } from '../common/errors.ts';

let shared: Docker | undefined;

/** The Docker client the runtime uses; tests and callers may pass their own instead. */
export function dockerClient(): Docker {
  shared ??= new Docker({ socketPath: process.env.DOCKER_SOCKET ?? '/var/run/docker.sock' });
  return shared;
}

export interface EngineInfo {
  version: string;
  apiVersion: string;
  storageDriver: string;
  cgroupVersion: string;
}

/** Asks the engine for its version; a clear error when it does not answer. */
export async function engineInfo(docker = dockerClient()): Promise<EngineInfo> {
  try {
    const version = await docker.version();
    const info = (await docker.info()) as { Driver?: string; CgroupVersion?: string };
    return {
      version: version.Version,
      apiVersion: version.ApiVersion,
      storageDriver: info.Driver ?? 'unknown',
      cgroupVersion: info.CgroupVersion ?? 'unknown',
    };
  } catch (error) {
    throw new LabError(
      'DOCKER_UNAVAILABLE',
      `the Docker engine at ${process.env.DOCKER_SOCKET ?? '/var/run/docker.sock'} ` +
        `does not answer (${(error as Error).message}); ` +
        'run "sztp-lab setup" as root to install and start it',
      { cause: error },
    );
  }
}
