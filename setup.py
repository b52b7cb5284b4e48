from setuptools import find_packages, setup

setup(
    name='leaps_mm',
    version='0.1.0',
    description='LEAPS model inversion for MMAction2 video recognizers',
    packages=find_packages(include=['leaps_mm', 'leaps_mm.*']),
    package_data={'leaps_mm': ['data/*.txt']},
    python_requires='>=3.9',
    install_requires=[
        'torch>=2.1',
        'torchvision',
        'mmengine==0.10.7',
        'mmcv-lite>=2.0.0rc4,<2.2.0',
        'mmaction2==1.2.0',
        'importlib_metadata',
        'setuptools<82',  # mmengine resolves `mmaction::` bases via pkg_resources
        'mlflow==3.17.2',
        'optuna==5.0.0',  # tools/tune.py
        'timm',
        'av>=12',
        'click>=8',
        'tqdm',
        'opencv-python',
        'numpy',
        'scikit-image',
    ],
    # psycopg2: the PostgreSQL-backed tracking-server test
    extras_require={'tests': ['pytest>=8', 'playwright==1.65.2',
                              'psycopg2-binary==2.9.13']},
)
