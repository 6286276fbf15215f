import { GatewayError } from '../errors/gateway-error.js';
import type { HeaderReader } from '../http/header-map.js';

/**
 * Refuses header values that could split a header (CR, LF, NUL) or exceed the configured bound: 400
 * `GW_ERR_REQUEST_INVALID_HEADER` naming the header.
 *
 * @example
 * checkHeaderValues(headers, governance.limits.maxHeaderValueBytes);
 */
export function checkHeaderValues(headers: HeaderReader, maxValueBytes: number): void {
  headers.forEach((value, name) => {
    if (/[\r\n\0]/.test(value)) {
      throw new GatewayError('GW_ERR_REQUEST_INVALID_HEADER', {
        message: `Header ${name} contains CR, LF or NUL.`,
        param: name,
      });
    }
    if (Buffer.byteLength(value, 'utf8') > maxValueBytes) {
      throw new GatewayError('GW_ERR_REQUEST_INVALID_HEADER', {
        message: `Header ${name} is longer than ${maxValueBytes} bytes.`,
        param: name,
      });
    }
  });
}
