"""Tests of the pipetrack command (a package so the tests share helpers from conftest)."""
