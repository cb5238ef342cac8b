"""Package setup for ct. Pinned versions for a reproducible environment: requirements.txt."""

from setuptools import find_packages, setup

setup(
    name="ct",
    version="0.1.0",
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
        "keras-tuner",
    ],
    entry_points={"console_scripts": ["ct=ct.cli:main"]},
)
