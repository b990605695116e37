/**
 * An embedded MQTT broker (Moquette) that authenticates clients with JWTs, for the demo and the
 * samples: nothing to install.
 */
@NullMarked
package dev.tether.samples.broker;

import org.jspecify.annotations.NullMarked;
