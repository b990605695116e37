/**
 * Implementation of the WebSocket module. Not an API: users must not depend on these types.
 */
@NullMarked
package dev.tether.websocket.internal;

import org.jspecify.annotations.NullMarked;
