"""The glossary (용어집): the course notes' headings and terms, in Korean and English, with where
the package teaches each (notebook, section, API).

The course is ASAC's "비선형 함수의 최적화 문제" (day 44, 2025-02-12): a lecture part (intro to
Back Propagation) and a summary in seven numbered sections. ``HEADINGS`` lists every heading of
both parts in the notes' order; ``TERMS`` the terms a learner meets, each at its first use.
Notebook ``00_glossary`` prints them as tables; ``tests/test_glossary.py`` checks that every
notebook section named here exists and every API name resolves, so the glossary cannot go stale
silently.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

__all__ = ["HEADINGS", "TERMS", "Heading", "Term", "resolve"]


@dataclass(frozen=True)
class Heading:
    """One heading of the course notes and where it is taught.

    Attributes:
        korean: the heading as the notes write it.
        english: its English.
        part: ``"lecture"`` or the summary's section (``"1"`` .. ``"7"``).
        notebook: the notebook's file stem (``"03_two_layer_relu_regression"``).
        section: the notebook's heading that teaches it (its text, without the ``#``).
        api: the names that do it, as ``"module.name"`` under ``tinygrad_edu``.
    """

    korean: str
    english: str
    part: str
    notebook: str
    section: str
    api: tuple[str, ...]


@dataclass(frozen=True)
class Term:
    """A term: Korean, English, and the notebook where it first matters."""

    korean: str
    english: str
    notebook: str
    api: tuple[str, ...] = ()


NB1 = "01_derivatives_and_the_chain_rule"
NB2 = "02_stepping_through_backprop"
NB3 = "03_two_layer_relu_regression"
NB4 = "04_batch_minibatch_stochastic"
NB5 = "05_optimizers"
NB6 = "06_second_order_and_lbfgs"
NB7 = "07_gradient_checking"
NB8 = "08_classification_moons"

L = "lecture"

HEADINGS: list[Heading] = [
    # -- the lecture part ------------------------------------------------------------------------
    Heading(
        "비선형 함수의 최적화 문제",
        "Optimising a nonlinear function",
        L,
        NB1,
        "1. Training is minimising a loss",
        ("problems.minimize",),
    ),
    Heading(
        "intro",
        "Intro: find the W that minimises the cost",
        L,
        NB1,
        "1. Training is minimising a loss",
        ("losses.mse_loss",),
    ),
    Heading(
        "최적화의 표현",
        "Stating the optimisation problem",
        L,
        NB1,
        "1. Training is minimising a loss",
        ("nn.MLP", "losses.mse_loss"),
    ),
    Heading(
        "최적화의 표현 : 분류",
        "The problem for classification",
        L,
        NB8,
        "3. The loss: hinge loss plus an L2 term",
        ("losses.hinge_loss", "losses.cross_entropy"),
    ),
    Heading(
        "최적화의 표현 : 회귀",
        "The problem for regression",
        L,
        NB3,
        "The model as formulas",
        ("losses.mse_loss",),
    ),
    Heading(
        "최적의 값을 어떻게 찾지?",
        "How do we find the best value?",
        L,
        NB1,
        "Why a neural network has no closed form",
        ("linalg.ridge_regression",),
    ),
    Heading(
        "Gradient Descent",
        "Gradient descent",
        L,
        NB1,
        "Gradient descent reaches the same weights",
        ("optim.SGD",),
    ),
    Heading(
        "Gradient Descent : 2 Layers Regression",
        "Gradient descent on a 2-layer regressor",
        L,
        NB3,
        "One step of gradient descent, by hand",
        ("nn.MLP", "optim.SGD", "train.fit"),
    ),
    Heading(
        "Back Propagation",
        "Backpropagation",
        L,
        NB2,
        "1. The backward pass, one step at a time",
        ("engine.Value", "viz.backprop_steps"),
    ),
    Heading(
        "Loss Function 미분",
        "Differentiating the loss",
        L,
        NB3,
        "Backpropagation, layer by layer",
        ("losses.mse_loss",),
    ),
    Heading(
        "Output Layer 미분",
        "Differentiating the output layer",
        L,
        NB3,
        "Backpropagation, layer by layer",
        ("nn.Layer",),
    ),
    Heading(
        "Hidden Layer 미분",
        "Differentiating the hidden layer",
        L,
        NB3,
        "Backpropagation, layer by layer",
        ("nn.Layer",),
    ),
    Heading(
        "뉴런 관점",
        "The neuron view",
        L,
        NB2,
        "The neuron view: one weight at a time",
        ("nn.Neuron", "engine.dot"),
    ),
    Heading(
        "Layer 단위 미분",
        "Differentiating a whole layer",
        L,
        NB2,
        "The layer view: Jacobians",
        ("autodiff.jacobian",),
    ),
    # -- the summary: 신경망 학습과 최적화 알고리즘 --------------------------------------
    Heading(
        "신경망 학습과 최적화 알고리즘",
        "Training neural networks and optimisation algorithms",
        "summary",
        NB1,
        "1. Training is minimising a loss",
        ("train.fit",),
    ),
    Heading(
        "1. 신경망 학습의 기본 개념",
        "1. The basic ideas of training a network",
        "1",
        NB1,
        "1. Training is minimising a loss",
        ("nn.Module.parameters",),
    ),
    Heading(
        "2. 최적화 알고리즘",
        "2. Optimisation algorithms",
        "2",
        NB5,
        "1. The update rules",
        ("optim.SGD", "optim.Adam", "optim.LBFGS", "optim.Newton"),
    ),
    Heading(
        "Gradient Descent (경사하강법)",
        "Gradient descent",
        "2",
        NB1,
        "Gradient descent reaches the same weights",
        ("optim.SGD",),
    ),
    Heading(
        "Gradient Descent의 변형 알고리즘",
        "Variants of gradient descent",
        "2",
        NB4,
        "The experiment: three regimes, same budget of epochs",
        ("data.batches", "train.fit"),
    ),
    Heading(
        "3. Backpropagation (역전파)",
        "3. Backpropagation",
        "3",
        NB2,
        "1. The backward pass, one step at a time",
        ("engine.Value.backward",),
    ),
    Heading(
        "Chain Rule 활용",
        "Using the chain rule",
        "3",
        NB1,
        "4. The chain rule",
        ("engine.Value.backward", "autodiff.grad"),
    ),
    Heading(
        "뉴런 단위와 레이어 단위 미분",
        "Derivatives per neuron and per layer",
        "3",
        NB2,
        "4. The neuron view vs the layer view (the Jacobian)",
        ("autodiff.jacobian",),
    ),
    Heading(
        "4. 활성 함수와 손실 함수",
        "4. Activation and loss functions",
        "4",
        NB3,
        "The model as formulas",
        ("nn.ACTIVATIONS", "losses.mse_loss"),
    ),
    Heading(
        "5. 데이터셋 구성 및 학습 방식",
        "5. Building the dataset and how to train",
        "5",
        NB3,
        "Training, validation and test sets",
        ("data.train_val_test_split",),
    ),
    Heading(
        "데이터셋 분할",
        "Splitting the dataset",
        "5",
        NB3,
        "Training, validation and test sets",
        ("data.train_val_test_split",),
    ),
    Heading(
        "훈련 데이터 단위",
        "The unit of training data per step",
        "5",
        NB4,
        "Cutting an epoch into batches",
        ("data.batches",),
    ),
    Heading(
        "6. Optimizer (최적화 기법)",
        "6. Optimizers",
        "6",
        NB5,
        "1. The update rules",
        ("optim.Optimizer",),
    ),
    Heading("Adagrad", "Adagrad", "6", NB5, "3. Why Adagrad stalls", ("optim.Adagrad",)),
    Heading(
        "RMSprop", "RMSprop", "6", NB5, "2. Side by side on two 2-D surfaces", ("optim.RMSprop",)
    ),
    Heading("Adam", "Adam", "6", NB5, "4. Adam's bias correction (편향 보정)", ("optim.Adam",)),
    Heading(
        "7. Epoch와 Batch",
        "7. Epochs and batches",
        "7",
        NB4,
        "Per epoch: many noisy steps beat few exact ones",
        ("train.fit", "data.batches"),
    ),
]

TERMS: list[Term] = [
    Term("최적화", "optimisation", NB1, ("problems.minimize",)),
    Term("손실 함수 / 비용 함수", "loss function / cost function", NB1, ("losses.mse_loss",)),
    Term("경사하강법", "gradient descent", NB1, ("optim.SGD",)),
    Term("미분 / 편미분", "derivative / partial derivative", NB1, ("autodiff.grad",)),
    Term("연쇄 법칙", "chain rule", NB1, ("engine.Value.backward",)),
    Term("닫힌 형태", "closed form", NB1, ("linalg.ridge_regression",)),
    Term("역전파", "backpropagation", NB2, ("engine.Value.backward",)),
    Term("계산 그래프", "computation graph", NB2, ("viz.draw_graph",)),
    Term("야코비안 행렬", "Jacobian matrix", NB2, ("autodiff.jacobian",)),
    Term("뉴런 / 레이어 (층)", "neuron / layer", NB2, ("nn.Neuron", "nn.Layer")),
    Term("가중치 / 편향", "weight / bias", NB3, ("nn.Neuron",)),
    Term("활성 함수", "activation function", NB3, ("nn.ACTIVATIONS",)),
    Term("항등 함수", "identity (linear output)", NB3, ("nn.MLP",)),
    Term("평균제곱오차", "mean squared error (MSE)", NB3, ("losses.mse_loss",)),
    Term(
        "훈련 / 검증 / 테스트 데이터",
        "training / validation / test set",
        NB3,
        ("data.train_val_test_split",),
    ),
    Term("배치", "batch", NB4, ("data.batches",)),
    Term("미니배치", "mini-batch", NB4, ("data.batches",)),
    Term("확률적 경사하강법", "stochastic gradient descent (SGD)", NB4, ("optim.SGD",)),
    Term("에폭", "epoch", NB4, ("train.fit",)),
    Term("학습률", "learning rate", NB5, ("optim.lr_scheduler.StepLR",)),
    Term("모멘텀 (관성)", "momentum", NB5, ("optim.SGD",)),
    Term("지수 이동 평균", "exponential moving average", NB5, ("optim.RMSprop", "optim.Adam")),
    Term("적응적 학습률", "adaptive learning rate", NB5, ("optim.Adagrad",)),
    Term("편향 보정", "bias correction", NB5, ("optim.Adam",)),
    Term("지역 최솟값 / 전역 최솟값", "local / global minimum", NB5, ("problems.minimize",)),
    Term("곡률", "curvature", NB6, ("autodiff.hessian",)),
    Term("헤시안 행렬", "Hessian matrix", NB6, ("autodiff.hessian",)),
    Term("볼록", "convex", NB6, ("optim.Newton",)),
    Term("제약 조건", "constraint", NB6, ("optim.Projected",)),
    Term("유한 차분", "finite difference", NB7, ("gradcheck.numerical_jacobian",)),
    Term("기울기 검사", "gradient checking", NB7, ("gradcheck.gradcheck",)),
    Term(
        "분류 / 결정 경계",
        "classification / decision boundary",
        NB8,
        ("plots.plot_decision_boundary",),
    ),
    Term("텐서", "tensor", "12_the_same_network_in_pytorch", ("nn.MLP.to_torch",)),
]


def resolve(api: str) -> object:
    """The object named ``"module.name[.attr]"`` under ``tinygrad_edu`` (raises if missing)."""
    module_name, _, rest = api.partition(".")
    obj: object = importlib.import_module(f"tinygrad_edu.{module_name}")
    for part in rest.split("."):
        obj = getattr(obj, part)
    return obj
