"""The Korean markdown a student writes around the code: step headers, notes and a retrospective.

Phrasings vary per notebook (seeded choice among a few), and the notes that describe results
are written from what the notebook shows (the trend of its fake accuracy, its improvement).
"""

from __future__ import annotations

import numpy as np

CHANGE_TEXT = {
    "deeper": ("모델 구조 변경 (DCGAN 논문 구조)",
               "처음 모델은 노드 구조에서 크기만 바꾼 거라 32x32 컬러 이미지에는 부족해 보였다. "
               "DCGAN 논문처럼 4x4에서 시작해 stride 2의 Conv2DTranspose를 세 번 쓰고, "
               "판별자도 한 층 더 깊게 + BatchNormalization을 넣었다. optimizer는 "
               "Adam(lr=2e-4, beta_1=0.5)로 바꿨다."),
    "label_smoothing": ("Label smoothing 적용",
                        "판별자가 너무 빨리 이기는 것 같아서 진짜 이미지의 라벨을 1 대신 0.9로 주는 "
                        "one-sided label smoothing을 적용했다 (ganhacks, Salimans et al. 2016)."),
    "lr": ("learning rate / beta_1 변경",
           "Adam(1e-4)는 학습이 느린 것 같아서 DCGAN 논문에서 쓴 learning_rate=2e-4, "
           "beta_1=0.5로 바꿔서 다시 학습했다."),
    "more_epochs": ("학습 더 시키기 (체크포인트에서 이어서)",
                    "구조는 그대로 두고 저장한 체크포인트에서 이어서 학습을 더 진행했다. "
                    "epoch이 늘어나면 이미지가 더 선명해지는지 확인해 보려고 한다."),
    "batch": ("배치 크기 변경",
              "batch size 256은 한 epoch에 업데이트 횟수가 적어서 128로 줄이고 다시 학습했다."),
    "upsampling": ("UpSampling2D 생성자로 변경",
                   "Conv2DTranspose 때문에 체커보드 무늬가 생기는 것 같아서 UpSampling2D + Conv2D "
                   "구조로 바꿔 보았다."),
}
"""Header and explanation of each improvement, by change kind."""

IDEAS = ("- 판별자에 label smoothing 적용해 보기\n- learning rate를 2e-4, beta_1=0.5로 바꿔 보기\n"
         "- 생성자를 더 깊게 쌓기\n\n시간이 부족해서 실제로 적용해 보지는 못했다. 다음에 꼭 해볼 것!")


def pick(rng: np.random.Generator, *options: str) -> str:
    """One of the phrasings."""
    return options[int(rng.integers(len(options)))]


def title(author: str, rng: np.random.Generator) -> str:
    """The notebook's first cell."""
    return pick(rng,
                f"# 프로젝트: CIFAR-10 이미지 생성하기\n\n작성자: {author}\n\n"
                "노드에서 배운 Fashion-MNIST DCGAN을 CIFAR-10(32x32x3)에 맞게 바꿔서 학습해 본다.",
                f"# [E-13] CIFAR-10 DCGAN 프로젝트 ({author})\n\n"
                "## 목표\n- 생성자/판별자 구현\n- 50 epoch 이상 학습\n- gif와 학습 그래프로 학습 과정 확인\n"
                "- (선택) 학습 개선",
                f"# CIFAR-10 이미지 생성하기\n\n> {author}\n\n"
                "GAN으로 CIFAR-10 같은 이미지를 만들어 보자.")


STEPS = {
    0: "## Step 0. 작업환경 구성하기",
    1: "## Step 1. 데이터셋 구성하기",
    2: "## Step 2. 생성자 모델 구현하기",
    3: "## Step 3. 판별자 모델 구현하기",
    4: "## Step 4. 손실함수와 최적화 함수 구현하기",
    5: "## Step 5. 훈련과정 상세 기능 구현하기",
    6: "## Step 6. 학습 과정 진행하기",
    7: "## Step 7. (optional) GAN 훈련 과정 개선하기",
}


def step(n: int, rng: np.random.Generator) -> str:
    """A step header with a short note."""
    notes = {
        1: ("학습 데이터만 사용하고 픽셀 값을 -1 ~ 1로 정규화한다.",
            "CIFAR-10은 32x32 컬러 이미지 50,000장. tanh 출력에 맞춰서 -1 ~ 1로 바꿔 준다."),
        2: ("노이즈 (100,) -> (32, 32, 3) 이미지를 만드는 생성자.",
            "Fashion-MNIST는 28x28x1이었는데 CIFAR-10은 32x32x3이라 시작 크기와 마지막 채널을 "
            "바꿔야 한다."),
        3: ("(32, 32, 3) 이미지를 받아서 진짜/가짜 점수 1개를 출력.",
            "판별자는 입력 크기만 32x32x3으로 바꿨다."),
        4: ("BinaryCrossentropy로 생성자/판별자 loss를 만들고, 판별 정확도도 같이 기록한다.",),
        5: ("train_step, 샘플 저장 함수, 그래프 함수, 체크포인트 준비.",),
        6: ("50 epoch 학습. 중간중간 샘플 이미지와 그래프가 저장된다.",
            "최소 50 epoch 이상 학습해야 해서 GPU로 돌렸다."),
    }
    head = STEPS[n]
    return head + ("\n\n" + pick(rng, *notes[n]) if n in notes else "")


def after_training(fake_last: float | None, rng: np.random.Generator,
                   fake_first: float | None = None) -> str:
    """The student's note on the training curves (written from the shown fake accuracy)."""
    if fake_last is None:
        return pick(rng, "학습이 끝났다. 마지막 샘플 이미지를 확인해 보자.",
                    "### 학습 결과\n생성된 이미지를 보면 조금씩 형태가 생기는 것 같다.")
    if fake_last >= 0.8:
        return pick(rng,
                    "### 학습 결과 분석\nfake accuracy가 끝까지 0.9 근처에서 내려오지 않았다. "
                    "판별자가 생성자를 너무 쉽게 구분하고 있다는 뜻 같다.",
                    "fake_accuracy가 거의 1에 가깝게 유지된다... 생성자가 판별자를 잘 못 속이는 중.")
    if fake_first is not None and fake_first - fake_last < 0.15:
        return pick(rng, "### 학습 결과 분석\n이어서 학습하는 동안 fake accuracy는 계속 0.5~0.6 "
                         "근처에 머물러 있었다.",
                    "fake accuracy가 처음부터 끝까지 0.55 근처에서 크게 변하지 않는다.")
    return pick(rng,
                "### 학습 결과 분석\n처음에는 fake accuracy가 1에 가까웠는데 학습이 진행되면서 "
                "0.5 근처까지 내려왔다. 생성자가 판별자를 어느 정도 속이기 시작한 것 같다.",
                "fake accuracy가 점점 내려가서 후반에는 0.5~0.6 정도에서 왔다갔다 한다. "
                "이상적인 방향으로 가고 있는 것 같다.")


def gif_note(rng: np.random.Generator) -> str:
    """Markdown before the GIF cell."""
    return pick(rng, "### 학습 과정 시각화 (gif)", "저장된 샘플들로 gif를 만든다.",
                "## 학습 과정 gif 만들기")


def retrospective(improved: str, rng: np.random.Generator) -> str:
    """The closing 회고 cell."""
    body = {
        "applied": "개선을 적용한 뒤에는 이미지가 조금 더 그럴듯해진 것 같다. 그래도 아직 "
                   "무엇인지 확실히 알아보기 어려운 이미지도 많다.",
        "not_attempted": "개선 아이디어는 정리했지만 시간이 없어서 적용하지 못했다.",
        "none": "GAN은 loss만 보고는 학습이 잘 되는지 판단하기 어렵다는 걸 느꼈다.",
    }[improved]
    return pick(rng, "## 회고\n\n" + body + "\n\n- 배운 점: GAN 학습은 생각보다 불안정하다.",
                "# 회고\n" + body + "\n다음에는 더 큰 모델이나 다른 loss(WGAN 등)도 써보고 싶다.")
