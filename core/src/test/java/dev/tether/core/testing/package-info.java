/**
 * Test fixtures shared by every module's tests (published in tether-core's test-jar): a
 * fault-injecting TCP proxy and kernel-level socket checks.
 */
package dev.tether.core.testing;
