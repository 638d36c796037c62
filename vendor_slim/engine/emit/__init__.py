"""Emit: plan the standalone tree (files, licences, CMake, docs, lock) and write it atomically."""
