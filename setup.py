"""Only what pyproject.toml cannot say: the package list is discovered (as
``[tool.setuptools.packages.find]`` would) plus ``bot._files``, the checkout's root mapped as a
package (``package-dir`` in pyproject.toml), so that the wheel carries templates/,
config.example.toml, data/ and scenarios/ as package data while the checkout keeps them at the
top. bot/runtime/assets.py finds them in either place."""

from setuptools import find_namespace_packages, setup
from setuptools.command.build_py import build_py

PACKAGES = ["bot", "handlers", "storage", "sandbox"]
FILES = "bot._files"


class BuildPy(build_py):
    def find_package_modules(self, package, package_dir):
        # bot._files holds data files only (not this setup.py, which lies in the same folder)
        return [] if package == FILES else super().find_package_modules(package, package_dir)


setup(
    packages=[
        *find_namespace_packages(
            include=[p for name in PACKAGES for p in (name, f"{name}.*")],
            exclude=["*.__pycache__", "*.__pycache__.*"],
        ),
        FILES,
    ],
    cmdclass={"build_py": BuildPy},
)
