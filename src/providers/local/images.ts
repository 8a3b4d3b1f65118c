// Local images: a baked image is a copy of a node's home, found by recipe fingerprint.
import { mkdir, rename, rm } from 'node:fs/promises';
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

export async function deleteLocalImage(lab: LabLayout, fingerprint: string): Promise<void> {
  await rm(imageDir(lab, fingerprint), { recursive: true, force: true });
}
