"""A small seeded node-classification graph for trainer tests: 3 communities,
noisy features, train/val/test masks."""
import torch

from gnnkit import Graph


def community_graph(n_per_class: int = 20, classes: int = 3, features: int = 8, seed: int = 0) -> Graph:
    gen = torch.Generator().manual_seed(seed)
    n = n_per_class * classes
    y = torch.arange(classes).repeat_interleave(n_per_class)
    same = y[:, None] == y[None, :]
    prob = torch.where(same, torch.tensor(0.3), torch.tensor(0.02))
    upper = torch.triu(torch.rand(n, n, generator=gen) < prob, diagonal=1)
    src, dst = upper.nonzero().t()
    edge_index = torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], 1)
    x = torch.randn(n, features, generator=gen)
    x[:, :classes] += 1.0 * torch.nn.functional.one_hot(y, classes)
    order = torch.randperm(n, generator=gen)
    train, val, test = (torch.zeros(n, dtype=torch.bool) for _ in range(3))
    train[order[:12]], val[order[12:30]], test[order[30:]] = True, True, True
    return Graph(x=x, edge_index=edge_index, y=y, y_level="node", train_mask=train, val_mask=val, test_mask=test)
