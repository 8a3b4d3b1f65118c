// Local images: a baked image is a copy of a node's home, found by recipe fingerprint.
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execLocal } from '../../common/exec-file';
import type { ImageRecord } from '../provider';
import { readJson, writeJsonAtomic } from './cluster-state';
import type { LabLayout } from './lab';

export function imageDir(lab: LabLayout, fingerprint: string): string {
  if (!/^[a-f0-9]{8,64}$/.test(fingerprint)) throw new Error(`invalid image fingerprint ${fingerprint}`);
  return join(lab.images, fingerprint);
}

export function imageHome(lab: LabLayout, image: ImageRecord): string {
  return join(imageDir(lab, image.fingerprint), 'home');
}

export async function findLocalImage(lab: LabLayout, fingerprint: string): Promise<ImageRecord | undefined> {
  return readJson<ImageRecord>(join(imageDir(lab, fingerprint), 'image.json'));
}

/** Copies a running node's home (seen through its own mount namespace) into a new image. */
export async function bakeLocalImage(lab: LabLayout, sourceHome: string, fingerprint: string): Promise<ImageRecord> {
  await sweepAbandonedStaging(lab);
  const existing = await findLocalImage(lab, fingerprint);
  if (existing) return existing;
  const final = imageDir(lab, fingerprint);
  const staging = join(lab.images, `.staging-${fingerprint}-${process.pid}-${Date.now()}`);
  await mkdir(join(staging, 'home'), { recursive: true });
  try {
    await execLocal('cp', ['-a', '--reflink=auto', `${sourceHome}/.`, join(staging, 'home')]);
    const image: ImageRecord = { imageId: `local-${fingerprint.slice(0, 16)}`, fingerprint, createdAt: new Date().toISOString() };
    await writeJsonAtomic(join(staging, 'image.json'), image);
    await rm(final, { recursive: true, force: true });
    await rename(staging, final);
    return image;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

const STAGING_NAME = /^\.staging-[a-f0-9]+-(\d+)-\d+$/;

/** Copies left by a worker killed mid-bake (each named by its process id): a live process's copy stays. */
export async function sweepAbandonedStaging(lab: LabLayout): Promise<string[]> {
  const names = await readdir(lab.images).catch(() => [] as string[]);
  const abandoned = names.filter((name) => {
    const pid = Number(STAGING_NAME.exec(name)?.[1] ?? NaN);
    return Number.isInteger(pid) && pid !== process.pid && !processAlive(pid);
  });
  for (const name of abandoned) await rm(join(lab.images, name), { recursive: true, force: true });
  return abandoned;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
