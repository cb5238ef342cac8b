"""Package setup for ct. Pinned versions for a reproducible environment: requirements.txt."""

import re
from pathlib import Path

from setuptools import find_packages, setup

VERSION = re.search(r'__version__ = "([^"]+)"',
                    Path(__file__).with_name("ct").joinpath("version.py").read_text()).group(1)

setup(
    name="ct",
    version=VERSION,
    description="Contrastive Tension (Carlsson et al., ICLR 2021) sentence-encoder training "
                "for TensorFlow 2 and Hugging Face models",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["ct", "ct.*"]),
    package_data={"ct.resources": ["DATA_LICENSE.md", "corpus/*.txt", "stsbenchmark/*.csv"]},
    install_requires=[
        "tensorflow>=2.16,<2.21",
        "tf-keras>=2.16,<2.21",
        "tensorflow-text>=2.16,<2.21",  # must match TensorFlow's minor version
        "transformers>=4.45,<5",
        "huggingface-hub",
        "safetensors",
        "numpy",
        "scipy",
        "scikit-learn",
        "pyyaml",
        "tqdm",
        "matplotlib",
        "tensorflow-datasets",
        "pyarrow",
        "zstandard",
        "keras-tuner",
    ],
    # pip install -e .[gpu]: TensorFlow's CUDA libraries (requirements.txt pins tensorflow).
    extras_require={"gpu": ["tensorflow[and-cuda]>=2.16,<2.21"]},
    entry_points={"console_scripts": ["ct=ct.cli:main"]},
)
