"""The tokenized features a trainer feeds Trainer: one tensor per key, indexed by feature."""
import torch


class FeatureDataset(torch.utils.data.Dataset):
    def __init__(self, tensors: dict):
        self.tensors = tensors

    def __len__(self):
        return len(self.tensors["input_ids"])

    def __getitem__(self, index):
        return {key: value[index] for key, value in self.tensors.items()}
