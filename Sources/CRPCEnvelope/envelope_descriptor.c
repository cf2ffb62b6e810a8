/* The envelope's descriptor as a function: Swift cannot take a C global's address as a constant. */
#include "envelope_descriptor.h"

const ProtobufCMessageDescriptor *rpc_envelope_descriptor(void) { return &aftersale__v1__envelope__descriptor; }
