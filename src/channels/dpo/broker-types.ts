// Request and answer shapes of the Altinn 3 Broker API ("Altinn3.Broker" 1.1.0), with the field names
// of Altinn's published OpenAPI (Altinn/altinn-broker), including its "Initalize" typo.

export type FileTransferStatusExt =
  | 'Initialized'
  | 'UploadStarted'
  | 'UploadProcessing'
  | 'Published'
  | 'Cancelled'
  | 'AllConfirmedDownloaded'
  | 'Purged'
  | 'Failed'

export type RecipientFileTransferStatusExt = 'Initialized' | 'DownloadStarted' | 'DownloadConfirmed'

export interface FileTransferInitalizeExt {
  fileName: string
  resourceId: string
  sendersFileTransferReference?: string | null
  /** `0192:<orgnr>` */
  sender: string
  recipients: string[]
  propertyList?: Record<string, string> | null
  /** MD5, hex */
  checksum?: string | null
  disableVirusScan?: boolean | null
}

export interface FileTransferInitializeResponseExt {
  fileTransferId: string
}

export interface FileTransferUploadResponseExt {
  fileTransferId: string
}

export interface RecipientFileTransferStatusDetailsExt {
  recipient: string
  currentRecipientFileTransferStatusCode: RecipientFileTransferStatusExt
  currentRecipientFileTransferStatusText: string | null
  currentRecipientFileTransferStatusChanged: string
}

export interface FileTransferOverviewExt {
  fileTransferId: string
  resourceId: string
  fileName: string
  sendersFileTransferReference: string | null
  checksum: string | null
  useVirusScan: boolean
  fileTransferSize: number
  fileTransferStatus: FileTransferStatusExt
  fileTransferStatusText: string | null
  fileTransferStatusChanged: string
  /** UTC */
  created: string
  expirationTime: string
  sender: string
  recipients: RecipientFileTransferStatusDetailsExt[]
  propertyList: Record<string, string> | null
}

export interface FileTransferListQuery {
  resourceId: string
  status?: FileTransferStatusExt | string
  recipientStatus?: RecipientFileTransferStatusExt | string
}
