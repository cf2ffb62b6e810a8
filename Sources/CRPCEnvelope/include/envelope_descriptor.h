/* The envelope's descriptor as a function: Swift cannot take a C global's address as a constant. */
#ifndef RPC_ENVELOPE_DESCRIPTOR_H
#define RPC_ENVELOPE_DESCRIPTOR_H
#include "aftersale/v1/rpc.pb-c.h"

const ProtobufCMessageDescriptor *rpc_envelope_descriptor(void);

#endif
