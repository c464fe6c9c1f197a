/**
 * The body codec of every known message id. Uplink ids not listed here go to MQTT as
 * `{"unknown_id": true, "data": base64}`; downlink ids not listed can still be sent that way.
 */
import { MsgId } from '../message-ids.js';
import { EMPTY_BODY, type BodyCodec } from './types.js';
import { AUTHENTICATE, GENERAL_RESPONSE, REGISTER, REGISTER_RESPONSE, RESEND_REQUEST, SERVER_TIME, TERMINAL_RESEND_REQUEST } from './general.js';
import { BULK_LOCATION, LOCATION_QUERY_RESPONSE, LOCATION_REPORT, TRACK_LOCATION, VEHICLE_CONTROL, VEHICLE_CONTROL_RESPONSE } from './location.js';
import { QUERY_ATTRIBUTES_RESPONSE, QUERY_PARAMS, QUERY_PARAMS_RESPONSE, SET_PARAMS, TERMINAL_CONTROL, UPGRADE, UPGRADE_RESULT } from './params.js';
import { CAMERA_SHOT, CAMERA_SHOT_RESPONSE, CAN_DATA, MEDIA_DATA, MEDIA_DATA_RESPONSE, MEDIA_EVENT } from './media.js';
import { DRIVE_RECORD_UPLOAD, EVENT_REPORT, INFO_DEMAND, LENGTH_AND_DATA, PASSTHROUGH, QUESTION_ANSWER, RSA_KEY, TEXT } from './transfer.js';

export type { BodyCodec } from './types.js';

const CODECS = new Map<number, BodyCodec>([
  // terminal -> platform
  [MsgId.TerminalResponse, GENERAL_RESPONSE],
  [MsgId.Heartbeat, EMPTY_BODY],
  [MsgId.Deregister, EMPTY_BODY],
  [MsgId.QueryServerTime, EMPTY_BODY],
  [MsgId.TerminalResendRequest, TERMINAL_RESEND_REQUEST],
  [MsgId.Register, REGISTER],
  [MsgId.Authenticate, AUTHENTICATE],
  [MsgId.QueryParamsResponse, QUERY_PARAMS_RESPONSE],
  [MsgId.QueryAttributesResponse, QUERY_ATTRIBUTES_RESPONSE],
  [MsgId.UpgradeResult, UPGRADE_RESULT],
  [MsgId.Location, LOCATION_REPORT],
  [MsgId.LocationQueryResponse, LOCATION_QUERY_RESPONSE],
  [MsgId.EventReport, EVENT_REPORT],
  [MsgId.QuestionAnswer, QUESTION_ANSWER],
  [MsgId.InfoDemand, INFO_DEMAND],
  [MsgId.VehicleControlResponse, VEHICLE_CONTROL_RESPONSE],
  [MsgId.DriveRecordUpload, DRIVE_RECORD_UPLOAD],
  [MsgId.WaybillReport, LENGTH_AND_DATA],
  [MsgId.BulkLocation, BULK_LOCATION],
  [MsgId.CanData, CAN_DATA],
  [MsgId.MediaEvent, MEDIA_EVENT],
  [MsgId.MediaData, MEDIA_DATA],
  [MsgId.CameraShotResponse, CAMERA_SHOT_RESPONSE],
  [MsgId.Passthrough, PASSTHROUGH],
  [MsgId.CompressedData, LENGTH_AND_DATA],
  [MsgId.TerminalRsaKey, RSA_KEY],
  // platform -> terminal
  [MsgId.PlatformResponse, GENERAL_RESPONSE],
  [MsgId.ResendRequest, RESEND_REQUEST],
  [MsgId.ServerTime, SERVER_TIME],
  [MsgId.RegisterResponse, REGISTER_RESPONSE],
  [MsgId.SetParams, SET_PARAMS],
  [MsgId.QueryAllParams, EMPTY_BODY],
  [MsgId.TerminalControl, TERMINAL_CONTROL],
  [MsgId.QueryParams, QUERY_PARAMS],
  [MsgId.QueryAttributes, EMPTY_BODY],
  [MsgId.Upgrade, UPGRADE],
  [MsgId.LocationQuery, EMPTY_BODY],
  [MsgId.TrackLocation, TRACK_LOCATION],
  [MsgId.LinkCheck, EMPTY_BODY],
  [MsgId.Text, TEXT],
  [MsgId.VehicleControl, VEHICLE_CONTROL],
  [MsgId.MediaDataResponse, MEDIA_DATA_RESPONSE],
  [MsgId.CameraShot, CAMERA_SHOT],
  [MsgId.DownPassthrough, PASSTHROUGH],
  [MsgId.PlatformRsaKey, RSA_KEY],
]);

/** The codec for a message id, or undefined when the id is unknown. */
export function bodyCodec(msgId: number): BodyCodec | undefined {
  return CODECS.get(msgId);
}

/** Every message id with a codec (for tests and documentation). */
export function knownMessageIds(): number[] {
  return [...CODECS.keys()];
}
