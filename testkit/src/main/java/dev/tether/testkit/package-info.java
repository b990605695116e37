/**
 * Network fixtures for Tether's tests and benchmarks, independent of Tether itself: {@link
 * dev.tether.testkit.FaultProxy}, a fault-injecting TCP proxy, {@link dev.tether.testkit.Sockets},
 * the kernel's view of TCP sockets (the proof that "closed" is closed), and {@link
 * dev.tether.testkit.AuthorizationServer}, a real OAuth2 authorization server (Spring Authorization Server).
 */
@NullMarked
package dev.tether.testkit;

import org.jspecify.annotations.NullMarked;
